"""Shared fixtures: the project directory and the prod stack's configuration."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from governance.stack_config import StackConfig, read_stack

PROJECT_DIR = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def prod_stack() -> StackConfig:
    """The prod stack file as the offline preview reads it."""
    return read_stack(PROJECT_DIR, "prod")


@pytest.fixture
def prod_values(prod_stack: StackConfig) -> dict[str, Any]:
    """A copy of the prod stack's namespace values that a test may change."""
    return copy.deepcopy(prod_stack.values)

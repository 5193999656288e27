"""Shared fixtures: the project directory and the prod stack's configuration."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

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


# Hypothesis profiles: "default" runs in CI; HYPOTHESIS_PROFILE=thorough runs 5,000
# examples per property. Deadlines are off because the first examples also warm
# up pydantic and parliament's data.
settings.register_profile(
    "default",
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "thorough",
    max_examples=5000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

# The prod stack's external ids are secure values, so the CLI marks its role key
# secret; tests that load the prod values pass the same secret keys.
PROD_SECRET_KEYS = frozenset({"executionRoles"})

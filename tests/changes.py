"""Changes to a stack's configuration values, and the runner of bad-input tables.

A change edits the namespace values of `Pulumi.prod.yaml` in place. Paths are
dotted, with list indexes as numbers: `accounts.4.budget.limitUsd`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from governance import config
from governance.problems import ConfigError, Problem
from tests.conftest import PROD_SECRET_KEYS

Change = Callable[[dict[str, Any]], None]

# A table of bad inputs: (case name, changes, every problem expected, in order).
Case = tuple[str, list[Change], list[Problem]]


def _parent(values: dict[str, Any], path: str) -> tuple[Any, str]:
    *parents, last = path.split(".")
    target: Any = values
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    return target, last


def set_key(path: str, value: Any) -> Change:
    """Return a change that sets the value at a path; the value is copied."""

    def change(values: dict[str, Any]) -> None:
        target, last = _parent(values, path)
        target[int(last) if last.isdigit() else last] = copy.deepcopy(value)

    return change


def delete_key(path: str) -> Change:
    """Return a change that removes the key at a path."""

    def change(values: dict[str, Any]) -> None:
        target, last = _parent(values, path)
        del target[last]

    return change


def append(path: str, value: Any) -> Change:
    """Return a change that appends a copy of a value to the list at a path."""

    def change(values: dict[str, Any]) -> None:
        target, last = _parent(values, path)
        target[int(last) if last.isdigit() else last].append(copy.deepcopy(value))

    return change


def case_params(cases: list[Case]) -> list[Any]:
    """Return a table's cases as pytest parameters named by their case."""
    return [
        pytest.param(changes, expected, id=name) for name, changes, expected in cases
    ]


def problems_after(values: dict[str, Any], changes: list[Change]) -> list[Problem]:
    """Apply changes to prod values and return the problems loading them raises."""
    for change in changes:
        change(values)
    with pytest.raises(ConfigError) as raised:
        config.load(values, PROD_SECRET_KEYS)
    return raised.value.problems

"""Configuration problems and the error that carries all of them at once."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

# Exit status of every command, and of the program, for invalid configuration.
EXIT_INVALID = 2

SECRET_MASK = "[secret]"


@dataclass(frozen=True, order=True)
class Problem:
    """One invalid value in the configuration.

    `path` is the config path in the stack file's own spelling, for example
    `accounts[3].id`; `found` is the value as it was read (already masked when it
    is a secret); `allowed` describes what the value may be and `fix` what to change.
    """

    path: str
    message: str
    found: str
    allowed: str
    fix: str

    def render(self) -> str:
        """Render the problem as four lines for a terminal."""
        return (
            f"{self.path}: {self.message}\n"
            f"  found:   {self.found}\n"
            f"  allowed: {self.allowed}\n"
            f"  fix:     {self.fix}"
        )

    def as_dict(self) -> dict[str, str]:
        """Return the problem as a JSON-ready mapping."""
        return {
            "path": self.path,
            "message": self.message,
            "found": self.found,
            "allowed": self.allowed,
            "fix": self.fix,
        }


class ConfigError(Exception):
    """Invalid configuration: every problem found, sorted by config path."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = sorted(set(problems), key=_problem_order)
        super().__init__(self.render())

    def render(self) -> str:
        """Render all problems with a one-line summary first."""
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        body = "\n".join(problem.render() for problem in self.problems)
        # Problems with command-line options (`--out`, `--base`) are not the
        # configuration's.
        arguments = all(problem.path.startswith("--") for problem in self.problems)
        subject = "invalid arguments" if arguments else "invalid configuration"
        return f"{subject}: {count} {noun}\n{body}"


def _problem_order(problem: Problem) -> tuple[Any, ...]:
    # Sort "accounts[10]" after "accounts[9]" by splitting the path on its indexes.
    parts: list[Any] = []
    for token in problem.path.replace("]", "").split("["):
        for piece in token.split("."):
            parts.append((0, int(piece), "") if piece.isdigit() else (1, 0, piece))
    return (parts, problem.message)


def show(value: Any) -> str:
    """Render a config value for an error message: JSON, so a reader sees its type.

    A string prints quoted and a YAML number prints bare, which is the difference
    between "012345678901" and 12345678901.
    """
    try:
        text = json.dumps(value, sort_keys=True, default=str)
    except (TypeError, ValueError):
        text = _repr(value)
    if len(text) > 120:
        text = text[:117] + "..."
    return text


def _repr(value: Any) -> str:
    try:
        return repr(value)
    except ValueError:
        # An integer of more than sys.get_int_max_str_digits() digits has no repr.
        return f"{type(value).__name__} value too large to print"

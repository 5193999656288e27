"""The shared file of an organization split over stacks, and its stack secrets.

The file contains the organization's definitions, written once: the keys
`organization`, `accounts`, `executionRoles` and `layers` of the `org-governance`
namespace without their prefix and without `config:`, and `shards`. Each stack
names it with `org-governance:shared`; the program reads it from the project
directory, because the Pulumi CLI passes a program its own stack's configuration
only.

Secrets cannot be written in the file, because each stack encrypts its values
with its own key. A secret is written `{stackSecret: NAME}`, and every stack sets
`org-governance:secrets.NAME` with `pulumi config set --secret`. Problems found
here have paths that start with the file's name, for example
`organization.yaml: accounts[3].id`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from governance.config import NAMESPACE
from governance.fields import suggest
from governance.parsing import SECRET_FIELDS
from governance.problems import SECRET_MASK, ConfigError, Problem, show
from governance.stack_config import SECRET_PLACEHOLDER, read_yaml

# The organization's definitions: in a stack file, or in the shared file.
DEFINITION_KEYS = ("organization", "accounts", "executionRoles", "layers")
SHARDS_KEY = "shards"
SECRET_REFERENCE = "stackSecret"
DEFAULT_SHARED_FILE = "organization.yaml"


@dataclass(frozen=True)
class SharedValues:
    """The shared file's values with each secret in place, and the keys holding one."""

    values: dict[str, Any]
    secret_keys: frozenset[str]


def in_file(problem: Problem, shared: str) -> Problem:
    """Return a problem of the shared file with the file's name in its path."""
    path = problem.path.removeprefix(f"{NAMESPACE}:")
    return dataclasses.replace(problem, path=f"{shared}: {path}")


def check_path(value: Any, project_dir: Path, problems: list[Problem]) -> str | None:
    """Check `org-governance:shared`: a file's path relative to the project directory.

    Returns the path, or None after adding a problem.
    """
    allowed = (
        "the path of a YAML file inside the project directory, relative to it, "
        f"for example {DEFAULT_SHARED_FILE}"
    )
    path = PurePosixPath(value) if isinstance(value, str) and value else None
    if path is None or path.is_absolute() or ".." in path.parts:
        problems.append(
            Problem(
                f"{NAMESPACE}:shared",
                "invalid shared file path",
                show(value),
                allowed,
                "the program reads the file from the project directory, where it "
                "is committed: write its path relative to Pulumi.yaml",
            )
        )
        return None
    if not (project_dir / path).is_file():
        problems.append(
            Problem(
                f"{NAMESPACE}:shared",
                "shared file not found",
                show(value),
                allowed,
                f"create {value} next to Pulumi.yaml, or correct the path",
            )
        )
        return None
    return str(path)


def read(project_dir: Path, shared: str, problems: list[Problem]) -> dict[str, Any]:
    """Read the shared file's known keys; report unknown keys and a bad document."""
    known = [*DEFINITION_KEYS, SHARDS_KEY]
    try:
        document = read_yaml(project_dir / shared)
    except ConfigError as error:
        problems.extend(error.problems)
        return {}
    if document is None:
        document = {}
    if not isinstance(document, dict):
        problems.append(
            Problem(
                shared,
                "not a mapping",
                show(document),
                "a mapping of keys: " + ", ".join(known),
                "write one key per line, without `config:`",
            )
        )
        return {}
    for key in sorted(str(key) for key in document):
        if key not in known:
            problems.append(
                Problem(
                    f"{shared}: {key}",
                    "unknown key in the shared file",
                    show(document[key]),
                    "keys of a shared file: " + ", ".join(known),
                    suggest(
                        key.removeprefix(f"{NAMESPACE}:"),
                        known,
                        "remove the key; stack settings go in the stack files",
                    ),
                )
            )
    return {str(key): value for key, value in document.items() if key in known}


def check_stack_secrets(
    values: Mapping[str, Any], secret_keys: frozenset[str]
) -> list[Problem]:
    """Check `org-governance:secrets`: a mapping the CLI marked secret."""
    secrets = values.get("secrets")
    if secrets is None:
        return []
    fix = "set each with `pulumi config set --secret --path 'secrets.NAME' VALUE`"
    if not isinstance(secrets, dict):
        return [
            Problem(
                f"{NAMESPACE}:secrets",
                "not a mapping",
                SECRET_MASK,
                "a mapping of secret names to secret values",
                fix,
            )
        ]
    if "secrets" not in secret_keys:
        return [
            Problem(
                f"{NAMESPACE}:secrets",
                "secrets are stored as plain text",
                SECRET_MASK,
                "secret values in the stack file (secure: ...)",
                f"delete the plain values, then {fix}",
            )
        ]
    return []


def substitute_secrets(
    document: Mapping[str, Any],
    secrets: Mapping[str, Any] | None,
    shared: str,
    stack: str | None,
    problems: list[Problem],
) -> SharedValues:
    """Put the stack's secret in place of each reference; mark those keys secret.

    `secrets` is the stack's `org-governance:secrets`. With no stack (listing the
    stacks), every reference takes the offline preview's placeholder. An
    encrypted value and a plain secret field are problems.
    """
    replacer = _Replacer(secrets if isinstance(secrets, dict) else {}, shared, stack)
    values = {}
    secret_keys = set()
    for key, value in document.items():
        replacer.found = False
        values[key] = replacer.replace(value, key)
        if replacer.found:
            secret_keys.add(key)
    problems.extend(replacer.problems)
    return SharedValues(values, frozenset(secret_keys))


class _Replacer:
    """Walks a value, replacing secret references and reporting misplaced secrets."""

    def __init__(self, secrets: Mapping[str, Any], shared: str, stack: str | None):
        self.secrets = secrets
        self.shared = shared
        self.stack = stack
        self.found = False
        self.problems: list[Problem] = []

    def replace(self, value: Any, path: str) -> Any:
        if isinstance(value, dict):
            if set(value) == {"secure"}:
                self.problems.append(self._encrypted(path))
                return SECRET_PLACEHOLDER
            if set(value) == {SECRET_REFERENCE}:
                self.found = True
                return self._secret(value[SECRET_REFERENCE], path)
            return {
                key: self.replace(item, f"{path}.{key}") for key, item in value.items()
            }
        if isinstance(value, list):
            return [
                self.replace(item, f"{path}[{index}]")
                for index, item in enumerate(value)
            ]
        if path.rsplit(".", 1)[-1] in SECRET_FIELDS:
            self.found = True
            self.problems.append(self._plain(path))
        return value

    def _secret(self, name: Any, path: str) -> Any:
        if self.stack is None:
            return SECRET_PLACEHOLDER
        if isinstance(name, str) and name in self.secrets:
            return self.secrets[name]
        known = sorted(self.secrets)
        self.problems.append(
            Problem(
                f"{self.shared}: {path}",
                f"stack secret not set in stack {self.stack}",
                show(name),
                "a key of org-governance:secrets: " + (", ".join(known) or "none set"),
                f"run `pulumi config set --stack {self.stack} --secret --path "
                f"'secrets.{name}' VALUE`",
            )
        )
        return SECRET_PLACEHOLDER

    def _encrypted(self, path: str) -> Problem:
        return Problem(
            f"{self.shared}: {path}",
            "encrypted value in the shared file",
            SECRET_MASK,
            f"a plain value, or {{{SECRET_REFERENCE}: NAME}} for a secret",
            "each stack encrypts with its own key, so no stack can decrypt it: "
            "write {stackSecret: NAME} and set NAME in every stack with `pulumi "
            "config set --secret --path 'secrets.NAME' VALUE`",
        )

    def _plain(self, path: str) -> Problem:
        return Problem(
            f"{self.shared}: {path}",
            "secret stored as plain text in the shared file",
            SECRET_MASK,
            f"{{{SECRET_REFERENCE}: NAME}}, with NAME set in every stack",
            "write {stackSecret: NAME} here, then in every stack run `pulumi "
            "config set --secret --path 'secrets.NAME' VALUE`",
        )

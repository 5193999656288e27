"""Stack configuration: read from the stack file, or from the running Pulumi program.

Two sources give the same values. Under `pulumi up` the CLI decrypts the stack's
configuration and hands it to the program, structured values as JSON text;
`from_runtime` reads it there. The offline preview has no CLI: `read_stack` parses
`Pulumi.yaml` and `Pulumi.<stack>.yaml` itself and `runtime_values` encodes them the
way the CLI would, so the program receives the same values.

YAML is parsed by ruamel.yaml under YAML 1.2, as the Pulumi CLI's Go parser does:
`012345678901` is a number there (its leading zero lost), and `yes`, `no`, `on` and
`off` are strings, not booleans as PyYAML's YAML 1.1 rules would make them.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from governance.config import NAMESPACE
from governance.problems import ConfigError, Problem

# What the offline preview puts in place of an encrypted value. It is a valid
# external id (letters and hyphens) so validation can run; it is never a real secret.
SECRET_PLACEHOLDER = "offline-preview-secret"


@dataclass(frozen=True)
class StackConfig:
    """A stack's configuration: namespace values, other keys, and the secret keys.

    `values` contains the keys of the `org-governance` namespace without the prefix;
    `other` contains every other key whole (`aws:region`); `secret_keys` names the
    namespace keys (without prefix) whose value contains a secret. `secret_paths`
    names the config path of each secret value when the stack file was
    read here (the CLI passes only the keys, so it is None under `pulumi up`).
    """

    project: str
    stack: str
    values: dict[str, Any]
    other: dict[str, Any]
    secret_keys: frozenset[str]
    secret_paths: frozenset[str] | None = None


def _yaml() -> YAML:
    parser = YAML(typ="safe", pure=True)
    parser.version = (1, 2)
    return parser


def _unreadable(path: Path, message: str, found: str, fix: str) -> ConfigError:
    return ConfigError(
        [Problem(str(path), message, found, "a readable YAML file", fix)]
    )


def _yaml_problem(path: Path, error: YAMLError) -> Problem:
    """Describe a YAML error by its line and column, in the parser's own words."""
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    context = getattr(error, "context", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "the file"
    found = f"{where}: {problem}" + (f" ({context})" if context else "")
    return Problem(
        str(path),
        "invalid YAML",
        found,
        "a YAML document with each key once",
        f"correct the syntax at {where}",
    )


def _read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise _unreadable(
            path, "file not found", "nothing", "check the path and the stack name"
        ) from None
    except IsADirectoryError:
        raise _unreadable(
            path, "not a file", "a directory", "name the stack file itself"
        ) from None
    except UnicodeDecodeError as error:
        raise _unreadable(
            path, "not UTF-8 text", str(error), "save the file as UTF-8"
        ) from None
    except OSError as error:
        raise _unreadable(
            path, "file cannot be read", str(error), "check its permissions"
        ) from None
    try:
        return _yaml().load(text)
    except YAMLError as error:
        raise ConfigError([_yaml_problem(path, error)]) from None
    except RecursionError:
        raise _unreadable(
            path,
            "YAML nested too deeply",
            "more levels than Python's recursion limit",
            "flatten the document",
        ) from None
    except ValueError as error:
        # ruamel.yaml raises ValueError, not YAMLError, for a scalar it cannot
        # construct: a date such as 2001-02-30, or an integer of more than
        # sys.get_int_max_str_digits() digits (4,300 by default).
        raise ConfigError(
            [
                Problem(
                    str(path),
                    "invalid YAML value",
                    _unreadable_value(text, error),
                    "integers of at most "
                    f"{sys.get_int_max_str_digits():,} digits and valid dates",
                    "correct the value",
                )
            ]
        ) from None


def _unreadable_value(text: str, error: ValueError) -> str:
    """Locate a number too long to convert, or return the error's own message."""
    limit = sys.get_int_max_str_digits()
    if "integer string conversion" not in str(error) or limit == 0:
        return str(error)
    match = re.search(rf"[0-9]{{{limit + 1},}}", text)
    if match is None:
        return str(error)
    line = text.count("\n", 0, match.start()) + 1
    return f"line {line}: a number of {len(match.group()):,} digits"


def read_yaml(path: Path) -> Any:
    """Read a YAML file as the Pulumi CLI reads stack files (YAML 1.2).

    Raises ConfigError when the file is missing or is not valid YAML.
    """
    return _read_yaml(path)


def read_project_name(project_dir: Path) -> str:
    """Return the `name` of `Pulumi.yaml` in the project directory."""
    path = project_dir / "Pulumi.yaml"
    document = _read_yaml(path)
    if not isinstance(document, dict) or not isinstance(document.get("name"), str):
        raise ConfigError(
            [
                Problem(
                    f"{path}.name",
                    "missing project name",
                    "nothing",
                    "a string",
                    "add `name: org-governance`",
                )
            ]
        )
    return document["name"]


def read_stack(
    project_dir: Path, stack: str, config_file: Path | None = None
) -> StackConfig:
    """Read a stack file and replace each encrypted value with the placeholder.

    Raises ConfigError when a file is missing or is not a stack file.
    """
    project = read_project_name(project_dir)
    path = config_file or project_dir / f"Pulumi.{stack}.yaml"
    document = _read_yaml(path)
    if document is None:
        document = {}
    config = document.get("config", {}) if isinstance(document, dict) else None
    if not isinstance(config, dict):
        raise ConfigError(
            [
                Problem(
                    f"{path}.config",
                    "not a mapping",
                    repr(config),
                    "a `config:` mapping",
                    "indent the keys under `config:`",
                )
            ]
        )
    values: dict[str, Any] = {}
    other: dict[str, Any] = {}
    secret_keys: set[str] = set()
    secret_paths: set[str] = set()
    written_as: dict[str, str] = {}
    budget = _NodeBudget(path)
    for written, raw in config.items():
        key = str(written)
        if ":" not in key:
            # The CLI puts a key without namespace into the project's namespace.
            key = f"{project}:{key}"
        if key in written_as:
            raise ConfigError(
                [
                    Problem(
                        f"{path}.config.{written}",
                        "configuration key set twice",
                        f"{written_as[key]} and {written}",
                        "each key once",
                        f"keep one of them; both set {key}",
                    )
                ]
            )
        written_as[key] = str(written)
        namespace, _, name = key.partition(":")
        found: set[str] = set()
        try:
            value = _decode_secure(raw, name, found, budget)
        except RecursionError:
            raise _unreadable(
                path,
                "YAML nested too deeply",
                f"{written} has more levels than Python's recursion limit",
                "flatten the value",
            ) from None
        if namespace == NAMESPACE:
            values[name] = value
            if found:
                secret_keys.add(name)
                secret_paths.update(found)
        else:
            other[key] = value
    return StackConfig(
        project=project,
        stack=stack,
        values=values,
        other=other,
        secret_keys=frozenset(secret_keys),
        secret_paths=frozenset(secret_paths),
    )


class _NodeBudget:
    """Counts the values read from a stack file, to stop alias expansion early.

    YAML aliases share one node, but walking the document visits it once per
    reference, so a few lines of aliases can stand for billions of values. The Go
    parser of the Pulumi CLI rejects such documents too.
    """

    LIMIT = 1_000_000

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0

    def spend(self) -> None:
        self.count += 1
        if self.count > self.LIMIT:
            raise _unreadable(
                self.path,
                "stack file expands to too many values",
                f"more than {self.LIMIT:,} values once YAML aliases are expanded",
                "write the values out, or use fewer aliases",
            )


def _decode_secure(value: Any, path: str, found: set[str], budget: _NodeBudget) -> Any:
    """Replace each `{secure: ...}` mapping with the placeholder; record its path.

    Paths are spelled as in configuration errors (`executionRoles[0].externalId`),
    so the validator can tell which values were encrypted.
    """
    budget.spend()
    if isinstance(value, dict):
        if set(value) == {"secure"} and isinstance(value["secure"], str):
            found.add(path)
            return SECRET_PLACEHOLDER
        return {
            str(key): _decode_secure(item, f"{path}.{key}", found, budget)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [
            _decode_secure(item, f"{path}[{index}]", found, budget)
            for index, item in enumerate(value)
        ]
    return value


def runtime_values(config: StackConfig) -> tuple[dict[str, str], list[str]]:
    """Encode a stack's configuration as the Pulumi CLI passes it to a program.

    Returns the `key -> text` map and the secret keys, both with namespaces, ready
    for `pulumi.runtime.set_all_config`.
    """
    encoded: dict[str, str] = {}
    for name, value in config.values.items():
        encoded[f"{NAMESPACE}:{name}"] = _encode(value)
    for key, value in config.other.items():
        encoded[key] = _encode(value)
    secret = sorted(f"{NAMESPACE}:{name}" for name in config.secret_keys)
    return encoded, secret


def _encode(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True)


def decode_runtime_value(text: str) -> Any:
    """Decode one config value as the CLI passed it: structured values are JSON."""
    if text[:1] in ("{", "["):
        try:
            return json.loads(text)
        # ValueError also covers an integer too long to convert, which is no
        # JSONDecodeError; the text then fails validation as a wrong type.
        except ValueError:
            return text
    return text


def from_runtime() -> tuple[dict[str, Any], frozenset[str]]:
    """Read the namespace's values inside a running Pulumi program.

    Returns the values (keys without prefix) and the secret keys. Secret values are
    read as the CLI decrypted them; the caller keeps them out of every output.
    """
    from pulumi.runtime import config as runtime_config

    keys = set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())
    values: dict[str, Any] = {}
    secret: set[str] = set()
    prefix = f"{NAMESPACE}:"
    for key in sorted(keys):
        if not key.startswith(prefix):
            continue
        text = runtime_config.get_config(key)
        if text is None:
            continue
        name = key.removeprefix(prefix)
        values[name] = decode_runtime_value(text)
        if runtime_config.is_config_secret(key):
            secret.add(name)
    return values, frozenset(secret)

"""Stack configuration: read from the stack file, or from the running Pulumi program.

Two sources give the same values. Under `pulumi up` the CLI decrypts the stack's
configuration and hands it to the program, structured values as JSON text;
`from_runtime` reads it there. The offline preview has no CLI: `read_stack` parses
`Pulumi.yaml` and `Pulumi.<stack>.yaml` itself and `runtime_values` encodes them the
way the CLI would, so the program sees no difference.

YAML is parsed by ruamel.yaml under YAML 1.2, as the Pulumi CLI's Go parser does:
`012345678901` is a number there (its leading zero lost), and `yes`, `no`, `on` and
`off` are strings, not booleans as PyYAML's YAML 1.1 rules would make them.
"""

from __future__ import annotations

import json
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

    `values` holds the keys of the `org-governance` namespace without the prefix;
    `other` holds every other key whole (`aws:region`); `secret_keys` names the
    namespace keys (without prefix) whose value contains a secret.
    """

    project: str
    stack: str
    values: dict[str, Any]
    other: dict[str, Any]
    secret_keys: frozenset[str]


def _yaml() -> YAML:
    parser = YAML(typ="safe", pure=True)
    parser.version = (1, 2)
    return parser


def _read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            [
                Problem(
                    str(path),
                    "file not found",
                    "nothing",
                    "a readable YAML file",
                    "check the path and the stack name",
                )
            ]
        ) from None
    try:
        return _yaml().load(text)
    except YAMLError as error:
        raise ConfigError(
            [
                Problem(
                    str(path),
                    "invalid YAML",
                    str(error).replace("\n", " "),
                    "a YAML document",
                    "correct the syntax",
                )
            ]
        ) from None


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
    for key, raw in config.items():
        value, secret = _decode_secure(raw)
        key = str(key)
        if ":" not in key:
            # The CLI puts a key without namespace into the project's namespace.
            key = f"{project}:{key}"
        namespace, _, name = key.partition(":")
        if namespace == NAMESPACE:
            values[name] = value
            if secret:
                secret_keys.add(name)
        else:
            other[key] = value
    return StackConfig(
        project=project,
        stack=stack,
        values=values,
        other=other,
        secret_keys=frozenset(secret_keys),
    )


def _decode_secure(value: Any) -> tuple[Any, bool]:
    """Replace each `{secure: ...}` mapping with the placeholder; flag if one was."""
    if isinstance(value, dict):
        if set(value) == {"secure"} and isinstance(value["secure"], str):
            return SECRET_PLACEHOLDER, True
        decoded = {}
        found = False
        for key, item in value.items():
            decoded[str(key)], secret = _decode_secure(item)
            found = found or secret
        return decoded, found
    if isinstance(value, list):
        items = [_decode_secure(item) for item in value]
        return [item for item, _ in items], any(secret for _, secret in items)
    return value, False


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
        except json.JSONDecodeError:
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

"""IAM policy documents in one canonical form.

Every policy this program generates passes through `canonical`, so the same
statements give byte-identical JSON whatever order they were built in:

- `"Version": "2012-10-17"` always (a policy without it is read by AWS as
  `2008-10-17`, which disables policy variables);
- statement keys in the order Sid, Effect, Principal, NotPrincipal, Action,
  NotAction, Resource, NotResource, Condition;
- lists sorted and without duplicates, and a one-element list written as a plain
  string, which is the form AWS stores and returns;
- principal types, condition operators and condition keys sorted;
- statements sorted by Sid, then by their own canonical text.

AWS's stored form (one-element lists as strings, reordered lists and keys, other
whitespace) normalises to the same document, so `equivalent` compares by meaning.

A value may be a `Secret` (an external id): it is written as the mask unless the
caller asks for the real value to send to AWS.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from governance.problems import SECRET_MASK

VERSION = "2012-10-17"

STATEMENT_KEYS = (
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
)


class Secret:
    """A secret string inside a policy, masked wherever it is printed.

    Equal secrets compare equal, and secrets sort by a hash of their value, so a
    policy holding them is still deterministic without revealing them.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """Return the real value, for the resource input that AWS receives."""
        return self._value

    def sort_key(self) -> str:
        """Return a stable key that reveals nothing usable about the value."""
        return "\uffff" + hashlib.sha256(self._value.encode()).hexdigest()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __repr__(self) -> str:
        return f"Secret({SECRET_MASK})"

    __str__ = __repr__

    def __len__(self) -> int:
        return len(self._value)


def _value_key(value: Any) -> str:
    if isinstance(value, Secret):
        return value.sort_key()
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def _scalar(value: Any) -> Any:
    # AWS stores condition values as strings: true -> "true", 3600 -> "3600".
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


def _values(value: Any) -> Any:
    """Sort and deduplicate a list; a one-element list becomes its element."""
    items = value if isinstance(value, list | tuple | set | frozenset) else [value]
    unique: dict[str, Any] = {}
    for item in items:
        item = _scalar(item)
        unique.setdefault(_value_key(item), item)
    ordered = [unique[key] for key in sorted(unique)]
    return ordered[0] if len(ordered) == 1 else ordered


def _principal(value: Any) -> Any:
    if value == "*":
        return "*"
    if not isinstance(value, Mapping):
        raise ValueError(f"invalid principal {value!r}: expected a mapping or '*'")
    return {kind: _values(value[kind]) for kind in sorted(value)}


def _condition(value: Mapping[str, Any]) -> dict[str, Any]:
    return {
        operator: {
            key: _values(value[operator][key]) for key in sorted(value[operator])
        }
        for operator in sorted(value)
        if value[operator]
    }


def canonical_statement(statement: Mapping[str, Any]) -> dict[str, Any]:
    """Return one statement in canonical form; raises ValueError on an unknown key."""
    unknown = set(statement) - set(STATEMENT_KEYS)
    if unknown:
        raise ValueError(f"unknown statement keys: {', '.join(sorted(unknown))}")
    result: dict[str, Any] = {}
    for key in STATEMENT_KEYS:
        if key not in statement:
            continue
        value = statement[key]
        if key in ("Principal", "NotPrincipal"):
            result[key] = _principal(value)
        elif key == "Condition":
            condition = _condition(value)
            if condition:
                result[key] = condition
        elif key in ("Sid", "Effect"):
            result[key] = value
        else:
            result[key] = _values(value)
    return result


def canonical(document: Mapping[str, Any]) -> dict[str, Any]:
    """Return a policy document in canonical form.

    Raises ValueError for a document without statements or with unknown keys.
    """
    unknown = set(document) - {"Version", "Id", "Statement"}
    if unknown:
        raise ValueError(f"unknown policy keys: {', '.join(sorted(unknown))}")
    statements = document.get("Statement")
    if isinstance(statements, Mapping):
        statements = [statements]
    if not statements:
        raise ValueError("a policy needs at least one statement")
    ordered = [canonical_statement(statement) for statement in statements]
    if len(ordered) > 1:
        # Most documents have one statement, and the JSON sort key is their cost.
        ordered.sort(
            key=lambda statement: (statement.get("Sid", ""), to_json(statement))
        )
    result: dict[str, Any] = {"Version": document.get("Version", "2008-10-17")}
    if "Id" in document:
        result["Id"] = document["Id"]
    result["Statement"] = ordered
    return result


def policy(*statements: Mapping[str, Any]) -> dict[str, Any]:
    """Build a canonical 2012-10-17 policy from statements."""
    return canonical({"Version": VERSION, "Statement": list(statements)})


def _masked(value: Any) -> Any:
    # Called by the JSON encoder for values it cannot write itself.
    if isinstance(value, Secret):
        return SECRET_MASK
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"{type(value).__name__} is not a JSON value")


def _revealed(value: Any) -> Any:
    if isinstance(value, Secret):
        return value.reveal()
    return _masked(value)


def to_json(document: Any, *, pretty: bool = False, reveal: bool = False) -> str:
    """Write a canonical document as JSON: compact for AWS, indented for review.

    Secrets are masked unless `reveal` is true; only a resource input may reveal.
    The encoder meets a Secret or a mapping that is not a dict only through
    `default`, so a document of plain values is written in C without a copy.
    """
    default = _revealed if reveal else _masked
    if pretty:
        return (
            json.dumps(document, indent=2, ensure_ascii=False, default=default) + "\n"
        )
    return json.dumps(
        document, separators=(",", ":"), ensure_ascii=False, default=default
    )


def has_secret(document: Any) -> bool:
    """Say whether a document contains a Secret anywhere."""
    if isinstance(document, Secret):
        return True
    if isinstance(document, Mapping):
        return any(has_secret(item) for item in document.values())
    if isinstance(document, list):
        return any(has_secret(item) for item in document)
    return False


def secret_characters(document: Any) -> int:
    """Count the characters of every Secret in a document."""
    if isinstance(document, Secret):
        return len(document)
    if isinstance(document, Mapping):
        return sum(secret_characters(item) for item in document.values())
    if isinstance(document, list | tuple):
        return sum(secret_characters(item) for item in document)
    return 0


def size_without_whitespace(document: Mapping[str, Any]) -> int:
    """Count a policy's characters as IAM does for its quotas: whitespace excluded.

    The real secret values are counted, since AWS stores them.
    """
    text = to_json(document, reveal=True)
    # str.split() splits on exactly the characters str.isspace() accepts.
    return len("".join(text.split()))


def equivalent(left: Mapping[str, Any], right: Mapping[str, Any]) -> bool:
    """Say whether two policies are the same after canonical normalisation."""
    return canonical(left) == canonical(right)


def parse(text: str) -> dict[str, Any]:
    """Parse a policy as AWS returns it (maybe URL-encoded) into canonical form."""
    stripped = text.strip()
    if stripped.startswith("%7B") or stripped.startswith("%7b"):
        stripped = unquote(stripped)
    return canonical(json.loads(stripped))

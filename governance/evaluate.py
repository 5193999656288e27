"""Trust policy evaluation: an IAM-style evaluator, and a summary of each policy.

`evaluate` decides a request against a trust policy the way IAM evaluates a
resource-based policy: an explicit Deny wins, then any Allow, else the request is
implicitly denied. It supports the constructs this program generates and the common
ones around them; for anything else it raises `UnsupportedConstructError` rather than
guess. It decides the trust policy's side only: a principal in another account also
needs its own identity policy to allow `sts:AssumeRole`.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from governance.policy import Secret

# Condition keys with several values in one request; only ForAnyValue/ForAllValues
# operators have a defined meaning on them.
MULTIVALUED_KEYS = frozenset({"aws:principalorgpaths", "aws:tagkeys"})

STRING_OPERATORS = {
    "StringEquals": (False, False),
    "StringNotEquals": (True, False),
    "StringEqualsIgnoreCase": (False, False),
    "StringNotEqualsIgnoreCase": (True, False),
    "StringLike": (False, True),
    "StringNotLike": (True, True),
    "ArnEquals": (False, True),
    "ArnLike": (False, True),
    "ArnNotEquals": (True, True),
    "ArnNotLike": (True, True),
    "Bool": (False, False),
}


class UnsupportedConstructError(Exception):
    """A policy construct the evaluator does not model, so it cannot decide."""


class Decision(enum.Enum):
    """The outcome of evaluating a request against a policy."""

    ALLOW = "allow"
    IMPLICIT_DENY = "implicit deny"
    EXPLICIT_DENY = "explicit deny"


@dataclass(frozen=True)
class Request:
    """An `sts:AssumeRole` call (or a companion action), with its request context.

    `principal_arn` is the caller's IAM role ARN, for example
    arn:aws:iam::123456789012:role/ci/deployer. `organization_id` and `org_paths`
    are the caller's organization and its paths (`o-.../r-.../ou-.../`); both are
    absent for a caller outside any organization.
    """

    principal_arn: str
    action: str = "sts:AssumeRole"
    organization_id: str | None = None
    org_paths: tuple[str, ...] = ()
    external_id: str | None = None
    mfa_present: bool = False
    session_tags: Mapping[str, str] = field(default_factory=dict)
    source_identity: str | None = None

    @property
    def principal_account(self) -> str:
        """Return the 12-digit account of the caller, from its ARN."""
        parts = self.principal_arn.split(":")
        return parts[4] if len(parts) > 4 else ""

    def context(self) -> dict[str, list[str]]:
        """Return the request context keys, lowercase, each with its values."""
        keys: dict[str, list[str]] = {
            "aws:principalarn": [self.principal_arn],
            "aws:principalaccount": [self.principal_account],
            "aws:principaltype": ["AssumedRole"],
            "aws:multifactorauthpresent": ["true" if self.mfa_present else "false"],
        }
        if self.organization_id is not None:
            keys["aws:principalorgid"] = [self.organization_id]
        if self.org_paths:
            keys["aws:principalorgpaths"] = list(self.org_paths)
        if self.external_id is not None:
            keys["sts:externalid"] = [self.external_id]
        if self.session_tags:
            keys["aws:tagkeys"] = sorted(self.session_tags)
            for key, value in self.session_tags.items():
                keys[f"aws:requesttag/{key.lower()}"] = [value]
        if self.source_identity is not None:
            keys["sts:sourceidentity"] = [self.source_identity]
        return keys


def _glob(pattern: str, value: str, ignore_case: bool = False) -> bool:
    # IAM wildcards: "*" any run of characters, "?" one character; nothing else.
    if "${" in pattern:
        raise UnsupportedConstructError(f"policy variable in {pattern!r}")
    parts = []
    for character in pattern:
        if character == "*":
            parts.append(".*")
        elif character == "?":
            parts.append(".")
        else:
            parts.append(re.escape(character))
    regex = "".join(parts)
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.fullmatch(regex, value, flags) is not None


def _arn_match(pattern: str, value: str, like: bool) -> bool:
    # ArnLike compares the six colon-separated parts one by one.
    pattern_parts = pattern.split(":", 5)
    value_parts = value.split(":", 5)
    if len(pattern_parts) != 6 or len(value_parts) != 6:
        return False
    if not like:
        return pattern == value
    return all(_glob(p, v) for p, v in zip(pattern_parts, value_parts, strict=True))


def _value_match(base: str, pattern: str, value: str) -> bool:
    if base in ("StringEquals", "StringNotEquals"):
        return pattern == value
    if base in ("StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase"):
        return pattern.lower() == value.lower()
    if base in ("StringLike", "StringNotLike"):
        return _glob(pattern, value)
    if base in ("ArnEquals", "ArnNotEquals"):
        return _arn_match(pattern, value, like=False)
    if base in ("ArnLike", "ArnNotLike"):
        return _arn_match(pattern, value, like=True)
    if base == "Bool":
        return pattern.lower() == value.lower()
    raise UnsupportedConstructError(f"condition operator {base}")


def _as_list(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    result = []
    for item in items:
        if isinstance(item, Secret):
            item = item.reveal()
        elif isinstance(item, bool):
            item = "true" if item else "false"
        result.append(str(item))
    return result


def _condition_holds(
    operator: str, key: str, expected: Any, context: Mapping[str, list[str]]
) -> bool:
    qualifier = None
    base = operator
    for prefix in ("ForAnyValue:", "ForAllValues:"):
        if base.startswith(prefix):
            qualifier = prefix[:-1]
            base = base.removeprefix(prefix)
    if_exists = base.endswith("IfExists") and base != "Null"
    base = base.removesuffix("IfExists") if if_exists else base
    values = _as_list(expected)
    present = context.get(key.lower())

    if base == "Null":
        wants_absent = values[0].lower() == "true"
        return (present is None) == wants_absent
    if base not in STRING_OPERATORS:
        raise UnsupportedConstructError(f"condition operator {operator}")
    negated, _ = STRING_OPERATORS[base]
    if key.lower() in MULTIVALUED_KEYS and qualifier is None:
        raise UnsupportedConstructError(
            f"single-valued operator {operator} on multivalued key {key}"
        )

    if present is None:
        if if_exists:
            return True
        if qualifier == "ForAllValues":
            return True
        if qualifier == "ForAnyValue":
            return False
        return negated

    def matches(value: str) -> bool:
        hit = any(_value_match(base, pattern, value) for pattern in values)
        return not hit if negated else hit

    if qualifier == "ForAllValues":
        return all(matches(value) for value in present)
    return any(matches(value) for value in present)


def _principal_matches(principal: Any, request: Request) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, Mapping):
        raise UnsupportedConstructError(f"principal {principal!r}")
    for kind, entries in principal.items():
        if kind != "AWS":
            # Service, Federated and CanonicalUser principals are never an IAM role.
            continue
        for entry in _as_list(entries):
            if entry == "*":
                return True
            if re.fullmatch(r"[0-9]{12}", entry) and entry == request.principal_account:
                return True
            parts = entry.split(":", 5)
            if len(parts) == 6 and parts[2] == "iam":
                if parts[5] == "root" and parts[4] == request.principal_account:
                    return True
                if parts[5].startswith("role/") and entry == request.principal_arn:
                    return True
            # Any other entry matches no caller, a dead unique id (AROA...) included.
    return False


def _action_matches(statement: Mapping[str, Any], action: str) -> bool:
    if "Action" in statement:
        return any(
            _glob(pattern, action, ignore_case=True)
            for pattern in _as_list(statement["Action"])
        )
    if "NotAction" in statement:
        return not any(
            _glob(pattern, action, ignore_case=True)
            for pattern in _as_list(statement["NotAction"])
        )
    return False


def statement_applies(statement: Mapping[str, Any], request: Request) -> bool:
    """Say whether a statement's principal, action and conditions all match."""
    if "NotPrincipal" in statement:
        raise UnsupportedConstructError("NotPrincipal")
    if "Resource" in statement or "NotResource" in statement:
        raise UnsupportedConstructError("Resource in a trust policy")
    if not _principal_matches(statement.get("Principal"), request):
        return False
    if not _action_matches(statement, request.action):
        return False
    context = request.context()
    for operator, keys in (statement.get("Condition") or {}).items():
        for key, expected in keys.items():
            if not _condition_holds(operator, key, expected, context):
                return False
    return True


def evaluate(document: Mapping[str, Any], request: Request) -> Decision:
    """Decide a request against a trust policy.

    Raises UnsupportedConstructError for a construct it does not model, even in a
    statement that would not apply, because it cannot tell without modelling it.
    """
    statements = document.get("Statement", [])
    if isinstance(statements, Mapping):
        statements = [statements]
    if document.get("Version") != "2012-10-17":
        raise UnsupportedConstructError(f"policy version {document.get('Version')!r}")
    allowed = False
    denied = False
    for statement in statements:
        effect = statement.get("Effect")
        if effect not in ("Allow", "Deny"):
            raise UnsupportedConstructError(f"effect {effect!r}")
        if statement_applies(statement, request):
            if effect == "Deny":
                denied = True
            else:
                allowed = True
    if denied:
        return Decision.EXPLICIT_DENY
    return Decision.ALLOW if allowed else Decision.IMPLICIT_DENY


@dataclass(frozen=True)
class Grant:
    """One statement: who may assume the role, how, and under which conditions."""

    sid: str
    effect: str
    principals: tuple[str, ...]
    actions: tuple[str, ...]
    conditions: tuple[str, ...]

    def describe(self) -> str:
        """Render the grant as one line for a terminal or a review."""
        conditions = "; ".join(self.conditions) or "no conditions"
        return (
            f"{self.effect} {', '.join(self.actions)} to {', '.join(self.principals)} "
            f"when {conditions}"
        )


def _render_values(value: Any) -> str:
    items = []
    for item in value if isinstance(value, list) else [value]:
        items.append("[secret]" if isinstance(item, Secret) else str(item))
    return items[0] if len(items) == 1 else "[" + ", ".join(items) + "]"


def summarise(document: Mapping[str, Any]) -> list[Grant]:
    """Summarise a trust policy as its grants, one per statement, secrets masked."""
    statements = document.get("Statement", [])
    if isinstance(statements, Mapping):
        statements = [statements]
    grants = []
    for statement in statements:
        principal = statement.get("Principal", {})
        if principal == "*":
            principals: tuple[str, ...] = ("*",)
        else:
            principals = tuple(
                sorted(
                    f"{entry}"
                    for kind in principal
                    for entry in _as_principal_list(principal[kind])
                )
            )
        conditions = tuple(
            f"{key} {operator} {_render_values(value)}"
            for operator, keys in sorted((statement.get("Condition") or {}).items())
            for key, value in sorted(keys.items())
        )
        actions = statement.get("Action", [])
        grants.append(
            Grant(
                sid=statement.get("Sid", ""),
                effect=statement.get("Effect", ""),
                principals=principals,
                actions=tuple(
                    sorted(actions if isinstance(actions, list) else [actions])
                ),
                conditions=conditions,
            )
        )
    return grants


def _as_principal_list(value: Any) -> list[str]:
    return [str(item) for item in (value if isinstance(value, list) else [value])]

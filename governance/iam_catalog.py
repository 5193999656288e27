"""IAM actions, condition keys and condition operators known to this program.

Actions and service condition keys come from parliament's copy of the AWS Service
Authorization Reference (`parliament/iam_definition.json`), so the catalogue is as
current as the pinned parliament release.
"""

from __future__ import annotations

import difflib
import functools
import re

import parliament
from parliament import statement as parliament_statement

# IAM condition operators; each may end in "IfExists" (except Null), and may start
# with "ForAllValues:" or "ForAnyValue:" for multivalued keys.
CONDITION_OPERATORS = frozenset(
    {
        "StringEquals",
        "StringNotEquals",
        "StringEqualsIgnoreCase",
        "StringNotEqualsIgnoreCase",
        "StringLike",
        "StringNotLike",
        "NumericEquals",
        "NumericNotEquals",
        "NumericLessThan",
        "NumericLessThanEquals",
        "NumericGreaterThan",
        "NumericGreaterThanEquals",
        "DateEquals",
        "DateNotEquals",
        "DateLessThan",
        "DateLessThanEquals",
        "DateGreaterThan",
        "DateGreaterThanEquals",
        "Bool",
        "BinaryEquals",
        "IpAddress",
        "NotIpAddress",
        "ArnEquals",
        "ArnLike",
        "ArnNotEquals",
        "ArnNotLike",
        "Null",
    }
)

# An action is "service:Action" with letters, digits and "*" wildcards, or "*".
ACTION = re.compile(r"^(\*|[a-z0-9-]+:[A-Za-z0-9*?]+)\Z")


def known_operator(operator: str) -> bool:
    """Say whether a condition operator is one IAM defines."""
    base = operator
    for prefix in ("ForAllValues:", "ForAnyValue:"):
        base = base.removeprefix(prefix)
    if base != "Null":
        base = base.removesuffix("IfExists")
    return base in CONDITION_OPERATORS


@functools.cache
def _service_keys() -> dict[str, tuple[str, ...]]:
    keys: dict[str, list[str]] = {}
    for service in parliament.iam_definition:
        for condition in service["conditions"]:
            keys.setdefault(service["prefix"], []).append(condition["condition"])
    return {prefix: tuple(values) for prefix, values in keys.items()}


def _template_match(template: str, key: str) -> bool:
    # Keys such as "aws:RequestTag/${TagKey}" accept any tag key after the slash.
    if "${" in template or template.endswith("/*"):
        prefix = template.split("${")[0].split("*")[0]
        return key.lower().startswith(prefix.lower()) and len(key) > len(prefix)
    return key.lower() == template.lower()


def known_condition_key(key: str) -> bool:
    """Say whether a condition key is a global key or a key of its service."""
    if parliament_statement.get_global_key_type(key) is not None:
        return True
    prefix = key.split(":", 1)[0].lower()
    return any(
        _template_match(template, key) for template in _service_keys().get(prefix, ())
    )


def close_condition_keys(key: str) -> list[str]:
    """Return up to three known condition keys that look like a mistyped one."""
    prefix = key.split(":", 1)[0].lower()
    candidates = [
        name for name in parliament_statement.GLOBAL_CONDITION_KEYS if "*" not in name
    ]
    candidates += [
        template for template in _service_keys().get(prefix, ()) if "${" not in template
    ]
    return difflib.get_close_matches(key, sorted(set(candidates)), n=3, cutoff=0.8)


def unknown_action(action: str) -> str | None:
    """Return why an action is unknown, or None when it matches a real action."""
    if not ACTION.match(action):
        return "not of the form service:Action"
    if action == "*":
        return None
    try:
        parliament.expand_action(action)
    except parliament.UnknownPrefixException:
        return f"unknown service prefix {action.split(':')[0]!r}"
    except parliament.UnknownActionException:
        return "no action of the service matches it"
    return None

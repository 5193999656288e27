"""Grants of a resource policy: each statement as access for effective principals.

A trust policy this program generates names accounts (`arn:aws:iam::ID:root`) and
narrows them to roles with an `aws:PrincipalArn` condition, while a policy written
by hand or stored by AWS may name the role ARN itself. Both let the same role in,
so a grant names the effective principal: the role ARN (or ARN pattern) in that
account, with the `aws:PrincipalArn` condition folded into it. The remaining
conditions stay on the grant.

Principals are written as AWS writes them: `*`, an ARN, `service:<name>` for a
service principal, `federated:<name>` for an identity provider. A bare 12-digit
account id becomes the account's root ARN, which is how IAM stores it. A unique id
(`AROA...`) is kept as it is: it is a dead principal, the trace of a deleted role,
and it matches no caller, not even a new role with the old name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from governance.policy_set import UNIQUE_ID

PRINCIPAL_ARN_KEY = "aws:principalarn"
# Operators under which an aws:PrincipalArn condition names the allowed callers.
PRINCIPAL_ARN_OPERATORS = frozenset(
    {"ArnLike", "ArnEquals", "StringLike", "StringEquals"}
)
ACCOUNT_ID = re.compile(r"^[0-9]{12}$")


@dataclass(frozen=True, order=True)
class Condition:
    """One condition key of a statement, with its operator and sorted values."""

    key: str
    operator: str
    values: tuple[str, ...]

    @property
    def name(self) -> str:
        """Return the key in lowercase, as IAM compares condition keys."""
        return self.key.lower()

    def describe(self) -> str:
        """Render the condition as `key operator value`, a list in brackets."""
        value = (
            self.values[0]
            if len(self.values) == 1
            else "[" + ", ".join(self.values) + "]"
        )
        return f"{self.key} {self.operator} {value}"


@dataclass(frozen=True, order=True)
class Grant:
    """The access one statement grants one effective principal.

    `statement` is the statement's Sid, or `Statement[<index>]` without one.
    """

    effect: str
    principal: str
    actions: tuple[str, ...]
    conditions: tuple[Condition, ...]
    statement: str

    @property
    def access(self) -> tuple[tuple[str, ...], tuple[Condition, ...]]:
        """Return the actions and conditions, without the statement's name."""
        return (self.actions, self.conditions)


def as_list(value: Any) -> list[str]:
    """Return a policy value as a list of strings: AWS stores one element bare."""
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    return [item if isinstance(item, str) else str(item) for item in items]


def statements(document: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    """Return a policy's statements as a list, whatever form AWS stored them in."""
    if not document:
        return []
    found = document.get("Statement") or []
    return [found] if isinstance(found, Mapping) else list(found)


def statement_name(statement: Mapping[str, Any], index: int) -> str:
    """Return a statement's Sid, or `Statement[<index>]` for one without."""
    return str(statement.get("Sid") or f"Statement[{index}]")


def glob_match(pattern: str, value: str) -> bool:
    """Match IAM wildcards: `*` any run of characters, `?` exactly one."""
    parts = []
    for character in pattern:
        if character == "*":
            parts.append(".*")
        elif character == "?":
            parts.append(".")
        else:
            parts.append(re.escape(character))
    regex = "".join(parts)
    return re.fullmatch(regex, value, re.DOTALL) is not None


def is_dead(principal: str) -> bool:
    """Say whether a principal is a unique id left by a deleted role or user."""
    return UNIQUE_ID.match(principal) is not None


def account_of(principal: str) -> str | None:
    """Return the 12-digit account of an IAM principal ARN, or None."""
    parts = principal.split(":", 5)
    if len(parts) == 6 and parts[0] == "arn" and parts[2] in ("iam", "sts"):
        return parts[4] if ACCOUNT_ID.match(parts[4]) else None
    return None


def is_account_root(principal: str) -> bool:
    """Say whether a principal is a whole account (`arn:...:iam::ID:root`)."""
    return account_of(principal) is not None and principal.endswith(":root")


def conditions_of(statement: Mapping[str, Any]) -> list[Condition]:
    """Return every condition of a statement, sorted."""
    found = []
    for operator, keys in (statement.get("Condition") or {}).items():
        for key, value in (keys or {}).items():
            found.append(Condition(key, operator, tuple(sorted(as_list(value)))))
    return sorted(found)


def _principals(statement: Mapping[str, Any], partition: str) -> list[str]:
    if "NotPrincipal" in statement:
        excluded = ", ".join(_principal_entries(statement["NotPrincipal"], partition))
        return [f"everyone except {excluded}"]
    return _principal_entries(statement.get("Principal"), partition)


def _principal_entries(value: Any, partition: str) -> list[str]:
    if value is None:
        return []
    if value == "*":
        return ["*"]
    if not isinstance(value, Mapping):
        return [str(value)]
    found = []
    for kind in sorted(value):
        for entry in as_list(value[kind]):
            if kind == "AWS":
                if ACCOUNT_ID.match(entry):
                    entry = f"arn:{partition}:iam::{entry}:root"
                found.append(entry)
            elif kind == "Service":
                found.append(f"service:{entry}")
            elif kind == "Federated":
                found.append(f"federated:{entry}")
            else:
                found.append(f"{kind.lower()}:{entry}")
    return found


def _narrow(principals: list[str], patterns: list[str]) -> list[str]:
    """Fold an aws:PrincipalArn condition into the principals it narrows."""
    result = []
    for principal in principals:
        account = account_of(principal)
        if principal == "*":
            result.extend(patterns)
        elif account is not None and principal.endswith(":root"):
            for pattern in patterns:
                parts = pattern.split(":", 5)
                if len(parts) == 6 and glob_match(parts[4], account):
                    result.append(":".join([*parts[:4], account, parts[5]]))
        elif account is not None:
            if any(glob_match(pattern, principal) for pattern in patterns):
                result.append(principal)
        else:
            # Service principals and unique ids carry no principal ARN to match.
            result.append(principal)
    return list(dict.fromkeys(result))


def grants(document: Mapping[str, Any] | None, partition: str = "aws") -> list[Grant]:
    """Return the grants of a resource policy, one per statement and principal."""
    found = []
    for index, statement in enumerate(statements(document)):
        actions = tuple(sorted(as_list(statement.get("Action"))))
        if "NotAction" in statement:
            actions = tuple(
                sorted(
                    f"all but {action}" for action in as_list(statement["NotAction"])
                )
            )
        conditions = []
        patterns: list[str] | None = None
        for condition in conditions_of(statement):
            # IAM requires every operator of a statement to match. So only the
            # first one on aws:PrincipalArn narrows the principal, and any other
            # stays a condition of the grant.
            if (
                patterns is None
                and condition.name == PRINCIPAL_ARN_KEY
                and condition.operator in PRINCIPAL_ARN_OPERATORS
            ):
                patterns = list(condition.values)
            else:
                conditions.append(condition)
        principals = _principals(statement, partition)
        if patterns is not None:
            principals = _narrow(principals, patterns)
        for principal in principals:
            found.append(
                Grant(
                    effect=str(statement.get("Effect", "")),
                    principal=principal,
                    actions=actions,
                    conditions=tuple(conditions),
                    statement=statement_name(statement, index),
                )
            )
    return found


def by_principal(
    found: Iterable[Grant],
) -> dict[tuple[str, str], tuple[tuple[tuple[str, ...], tuple[Condition, ...]], ...]]:
    """Group grants by (effect, principal); each maps to its distinct accesses."""
    grouped: dict[tuple[str, str], set[Any]] = {}
    for grant in found:
        grouped.setdefault((grant.effect, grant.principal), set()).add(grant.access)
    return {key: tuple(sorted(accesses)) for key, accesses in grouped.items()}

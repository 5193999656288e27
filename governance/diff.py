"""The semantic diff of two policy sets: who gained or lost access, not text.

`diff(base, now)` compares what would be deployed now with a base (a git revision,
a snapshot or the deployed state) and returns one `Change` per fact a reviewer
decides on:

- accounts added (onboarding) or removed (offboarding), roles added or removed;
- per role, each effective principal that gained or lost the ability to assume
  it, with its conditions. Conditions added, removed or changed, where dropping
  an external id, an MFA requirement or an organization condition is a
  weakening. Actions, managed policies, permissions boundary, path and session
  duration;
- inline permission statements added, removed or changed;
- layer sharing gained or lost, per account or organization;
- endpoint policies widened or narrowed, endpoints added or removed;
- budget alarm topic policies, budgets, limits and notifications.

Each change has a sign: `+` added or gained, `-` removed or lost, `~` changed,
`!` weakened (a condition dropped, a session lengthened, a policy widened).
Secrets are masked in both sets, so a changed external id value is not visible:
only its presence is compared.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from governance import grants as access
from governance import policy
from governance.grants import Condition
from governance.policy_set import (
    BUDGET,
    ENDPOINT_POLICY,
    LAYER_POLICY,
    PERMISSION_POLICY,
    ROLE,
    TOPIC_POLICY,
    TRUST_POLICY,
    PolicyEntry,
    PolicySet,
    resource_type,
)

ADDED = "+"
REMOVED = "-"
CHANGED = "~"
WEAKENED = "!"
SIGNS = {
    ADDED: "added or gained",
    REMOVED: "removed or lost",
    CHANGED: "changed",
    WEAKENED: "weakened",
}

# Order of resource types in a report: the account itself first, then roles.
RESOURCE_ORDER = ("", "role", "layer", "endpoint", "topic", "budget")

# Condition keys whose removal weakens a trust policy, with the change's code and
# message. Keys are compared in lowercase, as IAM compares them.
_WEAKENING_KEYS = {
    "sts:externalid": ("EXTERNAL_ID_DROPPED", "external id no longer required"),
    "aws:multifactorauthpresent": ("MFA_DROPPED", "MFA no longer required"),
    "aws:principalorgid": (
        "ORG_CONDITION_DROPPED",
        "organization condition {} removed",
    ),
    "aws:principalorgpaths": (
        "ORG_CONDITION_DROPPED",
        "organization condition {} removed",
    ),
}
_OPERATORS = {"GREATER_THAN": ">", "LESS_THAN": "<", "EQUAL_TO": "="}
# Placeholder for the principals of a change shared by several principals.
PRINCIPALS = "{principals}"


@dataclass(frozen=True)
class Change:
    """One semantic change in one account, on one resource or on the account."""

    sign: str
    code: str
    account: str
    account_id: str
    resource: str
    message: str

    def line(self) -> str:
        """Render the change as one self-contained line."""
        where = f"{self.account} ({self.account_id})"
        if self.resource:
            where += f" {self.resource}"
        return f"{self.sign} {where}: {self.message}"

    def as_dict(self) -> dict[str, str]:
        """Return the change as a JSON-ready mapping."""
        return {
            "sign": self.sign,
            "code": self.code,
            "account": self.account,
            "accountId": self.account_id,
            "resource": self.resource,
            "message": self.message,
            "line": self.line(),
        }


# A change before it is placed: (sign, code, message).
_Item = tuple[str, str, str]


class _Context:
    """Account names and partitions, which every comparison needs."""

    def __init__(self, base: PolicySet, now: PolicySet) -> None:
        self.names = {**base.account_names(), **now.account_names()}
        self.partitions = {
            account.id: account.partition for account in (*base.accounts, *now.accounts)
        }

    def account_label(self, account_id: str) -> str:
        name = self.names.get(account_id)
        return f"account {account_id} ({name})" if name else f"account {account_id}"


def diff(base: PolicySet, now: PolicySet) -> list[Change]:
    """Compare a policy set with its base and return every change, in report order."""
    context = _Context(base, now)
    changes: list[tuple[tuple[Any, ...], Change]] = []

    def place(account: str, account_id: str, resource: str, items: Iterable[_Item]):
        for position, (sign, code, message) in enumerate(items):
            kind = resource.split(" ", 1)[0] if resource else ""
            order = (
                account,
                account_id,
                RESOURCE_ORDER.index(kind),
                resource,
                position,
            )
            changes.append(
                (order, Change(sign, code, account, account_id, resource, message))
            )

    base_accounts = {account.id: account for account in base.accounts}
    now_accounts = {account.id: account for account in now.accounts}
    for account_id in sorted(set(now_accounts) - set(base_accounts)):
        name = now_accounts[account_id].name
        place(
            name,
            account_id,
            "",
            [(ADDED, "ACCOUNT_ADDED", "account added (onboarding)")],
        )
    for account_id in sorted(set(base_accounts) - set(now_accounts)):
        name = base_accounts[account_id].name
        place(
            name,
            account_id,
            "",
            [(REMOVED, "ACCOUNT_REMOVED", "account removed (offboarding)")],
        )

    base_resources = _resources(base.entries)
    now_resources = _resources(now.entries)
    for key in sorted(set(base_resources) | set(now_resources)):
        account_id, kind, name = key
        old = base_resources.get(key, {})
        new = now_resources.get(key, {})
        if _contents(old) == _contents(new):
            # Every handler finds nothing in a resource whose documents and
            # attributes are all equal, and most resources of a diff are such.
            continue
        any_entry = next(iter((new or old).values()))
        account = context.names.get(account_id, any_entry.account)
        handler = _HANDLERS[kind]
        items = handler(context, account_id, old, new)
        place(account, account_id, f"{kind} {name}", items)
    return [change for _, change in sorted(changes, key=lambda item: item[0])]


def _resources(
    entries: Iterable[PolicyEntry],
) -> dict[tuple[str, str, str], dict[str, PolicyEntry]]:
    """Group entries into resources: a role's three documents make one resource."""
    grouped: dict[tuple[str, str, str], dict[str, PolicyEntry]] = {}
    for entry in entries:
        key = (entry.account_id, resource_type(entry.kind), entry.name)
        grouped.setdefault(key, {})[entry.kind] = entry
    return grouped


def _contents(entries: Mapping[str, PolicyEntry]) -> dict[str, tuple[Any, Any]]:
    return {kind: (entry.document, entry.attributes) for kind, entry in entries.items()}


def _document(
    entries: Mapping[str, PolicyEntry], kind: str
) -> Mapping[str, Any] | None:
    entry = entries.get(kind)
    return entry.document if entry is not None else None


def _joined(values: Iterable[str]) -> str:
    return ", ".join(values)


# Roles -------------------------------------------------------------------------


def _diff_role(
    context: _Context,
    account_id: str,
    old: Mapping[str, PolicyEntry],
    new: Mapping[str, PolicyEntry],
) -> list[_Item]:
    if not new:
        return [(REMOVED, "ROLE_REMOVED", "role removed")]

    items: list[_Item] = []
    old_settings = _document(old, ROLE) or {}
    new_settings = _document(new, ROLE) or {}
    if not old:
        items.append(
            (
                ADDED,
                "ROLE_ADDED",
                f"role added at path {new_settings.get('path', '/')}, maximum session "
                f"{new_settings.get('maxSessionDuration', 3600)} s",
            )
        )

    partition = context.partitions.get(account_id, "aws")
    items.extend(
        _grant_changes(
            _document(old, TRUST_POLICY),
            _document(new, TRUST_POLICY),
            partition,
            role=True,
        )
    )
    items.extend(_settings_changes(old_settings, new_settings))
    items.extend(
        _statement_changes(
            _document(old, PERMISSION_POLICY), _document(new, PERMISSION_POLICY)
        )
    )
    # Nothing else is reported: two trust policies with the same grants mean the
    # same, whatever their principal form (a role ARN, or its account narrowed by
    # aws:PrincipalArn) or statement ids.
    return items


def _documents(entries: Mapping[str, PolicyEntry]) -> dict[str, Any]:
    return {kind: entry.document for kind, entry in entries.items()}


def _settings_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[_Item]:
    items: list[_Item] = []
    if old:
        before = int(old.get("maxSessionDuration") or 3600)
        after = int(new.get("maxSessionDuration") or 3600)
        if after > before:
            items.append(
                (
                    WEAKENED,
                    "SESSION_DURATION_RAISED",
                    f"maximum session duration raised from {before} s to {after} s",
                )
            )
        elif after < before:
            items.append(
                (
                    CHANGED,
                    "SESSION_DURATION_LOWERED",
                    f"maximum session duration lowered from {before} s to {after} s",
                )
            )
        if old.get("path") != new.get("path"):
            items.append(
                (
                    CHANGED,
                    "ROLE_PATH_CHANGED",
                    f"path changed from {old.get('path')} to {new.get('path')}, "
                    "which replaces the role",
                )
            )
    before_boundary = old.get("permissionsBoundary")
    after_boundary = new.get("permissionsBoundary")
    if before_boundary != after_boundary:
        if after_boundary is None:
            items.append(
                (
                    WEAKENED,
                    "PERMISSIONS_BOUNDARY_REMOVED",
                    f"permissions boundary {before_boundary} removed",
                )
            )
        elif before_boundary is None:
            items.append(
                (
                    # Added with a new role, and a narrowing of an existing one.
                    CHANGED if old else ADDED,
                    "PERMISSIONS_BOUNDARY_SET",
                    f"permissions boundary {after_boundary} set",
                )
            )
        else:
            items.append(
                (
                    CHANGED,
                    "PERMISSIONS_BOUNDARY_CHANGED",
                    f"permissions boundary changed from {before_boundary} to "
                    f"{after_boundary}",
                )
            )
    before_managed = set(old.get("managedPolicyArns") or [])
    after_managed = set(new.get("managedPolicyArns") or [])
    for arn in sorted(after_managed - before_managed):
        items.append(
            (ADDED, "MANAGED_POLICY_ATTACHED", f"managed policy {arn} attached")
        )
    for arn in sorted(before_managed - after_managed):
        items.append(
            (REMOVED, "MANAGED_POLICY_DETACHED", f"managed policy {arn} detached")
        )
    return items


def _describe_principal(principal: str) -> str:
    if access.is_dead(principal):
        return f"dead principal {principal}"
    if principal == "*":
        return "anyone (*)"
    if principal.startswith("service:"):
        return f"service {principal.removeprefix('service:')}"
    if access.is_account_root(principal):
        return f"{principal} (any principal the account allows)"
    return principal


def _when(conditions: Iterable[Condition]) -> str:
    described = [condition.describe() for condition in conditions]
    return "when " + " and ".join(described) if described else "with no condition"


def _subject(principal: str, effect: str, actions: tuple[str, ...], role: bool) -> str:
    who = _describe_principal(principal)
    listed = _joined(actions)
    if effect == "Deny":
        return f"{who} is denied {listed}"
    if role:
        return f"{who} may assume it ({listed})"
    return f"{who} may {listed}"


def _grant_changes(
    old: Mapping[str, Any] | None,
    new: Mapping[str, Any] | None,
    partition: str,
    role: bool,
) -> list[_Item]:
    """Compare who a resource policy lets in, principal by principal."""
    before = access.by_principal(access.grants(old, partition))
    after = access.by_principal(access.grants(new, partition))
    items: list[_Item] = []
    grouped: dict[tuple[str, str, str], list[str]] = {}
    for key in sorted(set(before) | set(after)):
        effect, principal = key
        if key not in before:
            for actions, conditions in after[key]:
                items.append(_gained(principal, effect, actions, conditions, role))
        elif key not in after:
            items.append(_lost(principal, effect, before[key], role))
        elif before[key] != after[key]:
            if len(before[key]) == 1 and len(after[key]) == 1:
                for detail in _access_changes(before[key][0], after[key][0]):
                    grouped.setdefault(detail, []).append(principal)
            else:
                items.append(
                    (
                        _alternatives_sign(before[key], after[key], effect),
                        "CONDITIONS_CHANGED",
                        f"{_describe_principal(principal)}: conditions changed from "
                        f"{_alternatives(before[key])} to {_alternatives(after[key])}",
                    )
                )
    for (sign, code, text), principals in grouped.items():
        items.append((sign, code, text.replace(PRINCIPALS, _joined(principals))))
    return items


def _gained(
    principal: str,
    effect: str,
    actions: tuple[str, ...],
    conditions: tuple[Condition, ...],
    role: bool,
) -> _Item:
    if access.is_dead(principal):
        return (
            ADDED,
            "DEAD_PRINCIPAL_ADDED",
            f"dead principal {principal} added (the unique id of a deleted role or "
            "user; it matches no caller)",
        )
    return (
        ADDED,
        "PRINCIPAL_ADDED",
        f"{_subject(principal, effect, actions, role)} {_when(conditions)}",
    )


def _lost(principal: str, effect: str, accesses: Any, role: bool) -> _Item:
    if access.is_dead(principal):
        return (
            REMOVED,
            "DEAD_PRINCIPAL_REMOVED",
            f"dead principal {principal} removed (the unique id of a deleted role or "
            "user; it matched no caller)",
        )
    who = _describe_principal(principal)
    if effect == "Deny":
        # A Deny that goes lets through what it stopped: a weakening.
        return (
            WEAKENED,
            "DENY_REMOVED",
            f"{who} is no longer denied {_alternatives(accesses)}",
        )
    verb = "assume it" if role else _joined(accesses[0][0])
    return (REMOVED, "PRINCIPAL_REMOVED", f"{who} may no longer {verb}")


def _alternatives_sign(before: Any, after: Any, effect: str) -> str:
    """Return the sign of a change between alternative accesses of one principal.

    A condition that every old alternative required, and some new one does not,
    no longer binds the principal, such as an external id that can now be
    avoided. For an Allow that is a weakening.
    """

    def required(accesses: Any) -> set[Condition]:
        return set.intersection(*(set(conditions) for _, conditions in accesses))

    if effect == "Allow" and any(
        not required(before) <= set(conditions) for _, conditions in after
    ):
        return WEAKENED
    return CHANGED


def _alternatives(accesses: Any) -> str:
    return " or ".join(
        f"({_joined(actions)} {_when(conditions)})" for actions, conditions in accesses
    )


def _access_changes(
    before: tuple[tuple[str, ...], tuple[Condition, ...]],
    after: tuple[tuple[str, ...], tuple[Condition, ...]],
) -> list[tuple[str, str, str]]:
    """List what changed for one principal; `{principals}` is filled in later."""
    details: list[tuple[str, str, str]] = []

    actions_before, conditions_before = set(before[0]), set(before[1])
    actions_after, conditions_after = set(after[0]), set(after[1])
    gained = sorted(actions_after - actions_before)
    lost = sorted(actions_before - actions_after)
    if gained:
        details.append(
            (ADDED, "ACTIONS_ADDED", f"{{principals}} may now also {_joined(gained)}")
        )
    if lost:
        details.append(
            (
                REMOVED,
                "ACTIONS_REMOVED",
                f"{{principals}} may no longer {_joined(lost)}",
            )
        )

    removed = {(c.name, c.operator): c for c in conditions_before - conditions_after}
    added = {(c.name, c.operator): c for c in conditions_after - conditions_before}
    for pair in sorted(set(removed) & set(added)):
        old, new = removed.pop(pair), added.pop(pair)
        if pair[0] == "aws:multifactorauthpresent" and new.values != ("true",):
            details.append(
                (WEAKENED, "MFA_DROPPED", "MFA no longer required for {principals}")
            )
            continue
        details.append(
            (
                CHANGED,
                "CONDITION_CHANGED",
                f"condition {old.key} {old.operator} changed from "
                f"{_value(old)} to {_value(new)} for {{principals}}",
            )
        )

    for condition in sorted(removed.values()):
        code, text = _WEAKENING_KEYS.get(
            condition.name, ("CONDITION_REMOVED", "condition {} removed")
        )
        details.append(
            (
                WEAKENED,
                code,
                text.format(condition.describe()) + " for {principals}",
            )
        )
    for condition in sorted(added.values()):
        details.append(
            (
                CHANGED,
                "CONDITION_ADDED",
                f"condition {condition.describe()} added for {{principals}}",
            )
        )
    return details


def _value(condition: Condition) -> str:
    return condition.describe().removeprefix(f"{condition.key} {condition.operator} ")


# Permission statements ---------------------------------------------------------


def _statement_changes(
    old: Mapping[str, Any] | None, new: Mapping[str, Any] | None
) -> list[_Item]:
    """Compare permission statements by Sid (or by content when they have none)."""
    before = _keyed_statements(old)
    after = _keyed_statements(new)
    items: list[_Item] = []
    for key in sorted(set(before) | set(after)):
        if key not in before:
            items.append(
                (ADDED, "PERMISSION_ADDED", _describe_statement(after[key], key))
            )
        elif key not in after:
            # A Deny that goes lets through what it stopped.
            denied = before[key].get("Effect") == "Deny"
            items.append(
                (
                    WEAKENED if denied else REMOVED,
                    "DENY_REMOVED" if denied else "PERMISSION_REMOVED",
                    "no longer " + _describe_statement(before[key], key),
                )
            )
        elif before[key] != after[key]:
            items.extend(_statement_detail(before[key], after[key], key))
    return items


def _keyed_statements(document: Mapping[str, Any] | None) -> dict[str, Any]:
    keyed = {}
    for index, statement in enumerate(access.statements(document)):
        sid = statement.get("Sid")
        keyed[f"statement {sid}" if sid else f"statement {index + 1}"] = statement
    return keyed


def _verb(statement: Mapping[str, Any]) -> str:
    return "denies" if statement.get("Effect") == "Deny" else "allows"


def _describe_statement(statement: Mapping[str, Any], key: str) -> str:
    actions = _joined(access.as_list(statement.get("Action")))
    if "NotAction" in statement:
        actions = "all actions but " + _joined(access.as_list(statement["NotAction"]))
    resources = _joined(access.as_list(statement.get("Resource")))
    if "NotResource" in statement:
        resources = "all resources but " + _joined(
            access.as_list(statement["NotResource"])
        )
    conditions = access.conditions_of(statement)
    when = f" {_when(conditions)}" if conditions else ""
    return f"{_verb(statement)} {actions} on {resources}{when} ({key})"


def _statement_detail(
    before: Mapping[str, Any], after: Mapping[str, Any], key: str
) -> list[_Item]:
    items: list[_Item] = []
    if before.get("Effect") != after.get("Effect"):
        items.append(
            (
                WEAKENED if before.get("Effect") == "Deny" else CHANGED,
                "PERMISSION_CHANGED",
                f"{key}: effect changed from {before.get('Effect')} to "
                f"{after.get('Effect')}",
            )
        )
    for field, noun in (("Action", "actions"), ("Resource", "resources")):
        old = set(access.as_list(before.get(field)))
        new = set(access.as_list(after.get(field)))
        if new - old:
            items.append(
                (
                    ADDED,
                    f"PERMISSION_{noun.upper()}_ADDED",
                    f"{key} now {_verb(after)} {noun} {_joined(sorted(new - old))}",
                )
            )
        if old - new:
            items.append(
                (
                    REMOVED,
                    f"PERMISSION_{noun.upper()}_REMOVED",
                    f"{key} no longer {_verb(before)} {noun} "
                    f"{_joined(sorted(old - new))}",
                )
            )
    old_conditions = set(access.conditions_of(before))
    new_conditions = set(access.conditions_of(after))
    for condition in sorted(old_conditions - new_conditions):
        items.append(
            (
                WEAKENED,
                "CONDITION_REMOVED",
                f"{key}: condition {condition.describe()} removed",
            )
        )
    for condition in sorted(new_conditions - old_conditions):
        items.append(
            (
                CHANGED,
                "CONDITION_ADDED",
                f"{key}: condition {condition.describe()} added",
            )
        )
    if not items:
        items.append((CHANGED, "PERMISSION_CHANGED", f"{key} changed"))
    return items


# Layers ------------------------------------------------------------------------


def _diff_layer(
    context: _Context,
    account_id: str,
    old: Mapping[str, PolicyEntry],
    new: Mapping[str, PolicyEntry],
) -> list[_Item]:
    if not new:
        return [
            (
                REMOVED,
                "LAYER_REMOVED",
                "layer removed from the stack (published versions stay in AWS)",
            )
        ]
    items: list[_Item] = []
    if not old:
        items.append((ADDED, "LAYER_ADDED", "layer added"))
    before = _grantees(context, _document(old, LAYER_POLICY))
    after = _grantees(context, _document(new, LAYER_POLICY))
    for grantee in sorted(set(after) - set(before)):
        items.append((ADDED, "LAYER_SHARED", f"shared with {grantee}"))
    for grantee in sorted(set(before) - set(after)):
        items.append((REMOVED, "LAYER_UNSHARED", f"no longer shared with {grantee}"))
    if not items and _documents(old) != _documents(new):
        items.append((CHANGED, "LAYER_POLICY_CHANGED", "layer policy changed"))
    return items


def _grantees(context: _Context, document: Mapping[str, Any] | None) -> list[str]:
    found = []
    for grant in access.grants(document):
        if grant.effect != "Allow":
            continue
        organization = [
            value
            for condition in grant.conditions
            if condition.name == "aws:principalorgid"
            for value in condition.values
        ]
        account = access.account_of(grant.principal)
        if grant.principal == "*" and organization:
            found.append(f"the organization {_joined(organization)}")
        elif grant.principal == "*":
            found.append("everyone (*)")
        elif account is not None and access.is_account_root(grant.principal):
            found.append(context.account_label(account))
        else:
            found.append(_describe_principal(grant.principal))
    return found


# Endpoints ---------------------------------------------------------------------


def _diff_endpoint(
    context: _Context,
    account_id: str,
    old: Mapping[str, PolicyEntry],
    new: Mapping[str, PolicyEntry],
) -> list[_Item]:
    before = old.get(ENDPOINT_POLICY)
    after = new.get(ENDPOINT_POLICY)
    if after is None:
        assert before is not None
        return [(REMOVED, "ENDPOINT_REMOVED", f"endpoint removed: {_endpoint(before)}")]
    if before is None:
        return [(ADDED, "ENDPOINT_ADDED", f"endpoint added: {_endpoint(after)}")]
    items: list[_Item] = []
    for attribute in ("type", "serviceName"):
        if before.attributes.get(attribute) != after.attributes.get(attribute):
            items.append(
                (
                    CHANGED,
                    "ENDPOINT_CHANGED",
                    f"{attribute} changed from {before.attributes.get(attribute)} to "
                    f"{after.attributes.get(attribute)}",
                )
            )
    items.extend(_policy_scope_changes(before.document, after.document))
    if not items and before.document != after.document:
        items.append((CHANGED, "ENDPOINT_POLICY_CHANGED", "policy changed"))
    return items


def _endpoint(entry: PolicyEntry) -> str:
    kind = entry.attributes.get("type", "")
    service = entry.attributes.get("serviceName", "")
    return f"{kind} {service}, policy {_policy_summary(entry.document)}".strip()


def _policy_summary(document: Mapping[str, Any]) -> str:
    parts = []
    for statement in access.statements(document):
        actions = _joined(access.as_list(statement.get("Action")))
        resources = _joined(access.as_list(statement.get("Resource")))
        conditions = access.conditions_of(statement)
        when = f" {_when(conditions)}" if conditions else ""
        parts.append(f"{_verb(statement)} {actions} on {resources}{when}")
    return "; ".join(parts) or "empty"


def _covered(value: str, patterns: Iterable[str]) -> bool:
    return any(access.glob_match(pattern, value) for pattern in patterns)


def _policy_scope_changes(
    old: Mapping[str, Any], new: Mapping[str, Any]
) -> list[_Item]:
    """Say whether an Allow policy lets more or less through, part by part."""

    def union(document: Mapping[str, Any], field: str) -> list[str]:
        values: set[str] = set()
        for statement in access.statements(document):
            if statement.get("Effect") == "Allow":
                values.update(access.as_list(statement.get(field)))
        return sorted(values)

    def conditions(document: Mapping[str, Any]) -> set[Condition]:
        found: set[Condition] = set()
        for statement in access.statements(document):
            if statement.get("Effect") == "Allow":
                found.update(access.conditions_of(statement))
        return found

    items: list[_Item] = []
    for field, noun in (
        ("Principal", "principals"),
        ("Action", "actions"),
        ("Resource", "resources"),
    ):
        if field == "Principal":
            before = sorted(
                {g.principal for g in access.grants(old) if g.effect == "Allow"}
            )
            after = sorted(
                {g.principal for g in access.grants(new) if g.effect == "Allow"}
            )
        else:
            before, after = union(old, field), union(new, field)
        if before == after:
            continue
        wider = any(not _covered(value, before) for value in after)
        narrower = any(not _covered(value, after) for value in before)
        text = f"{noun} {_joined(before)} -> {_joined(after)}"
        if wider and not narrower:
            items.append(
                (WEAKENED, "ENDPOINT_POLICY_WIDENED", f"policy widened: {text}")
            )
        elif narrower and not wider:
            items.append(
                (REMOVED, "ENDPOINT_POLICY_NARROWED", f"policy narrowed: {text}")
            )
        else:
            items.append(
                (CHANGED, "ENDPOINT_POLICY_CHANGED", f"policy changed: {text}")
            )
    for condition in sorted(conditions(old) - conditions(new)):
        items.append(
            (
                WEAKENED,
                "ENDPOINT_POLICY_WIDENED",
                f"policy widened: condition {condition.describe()} removed",
            )
        )
    for condition in sorted(conditions(new) - conditions(old)):
        items.append(
            (
                REMOVED,
                "ENDPOINT_POLICY_NARROWED",
                f"policy narrowed: condition {condition.describe()} added",
            )
        )
    items.extend(_deny_changes(old, new))
    return items


def _deny_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[_Item]:
    """Report Deny statements of a policy that went (a widening) or came."""

    def denies(document: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
        return {
            policy.to_json({**statement, "Sid": ""}): statement
            for statement in access.statements(document)
            if statement.get("Effect") == "Deny"
        }

    before, after = denies(old), denies(new)
    items: list[_Item] = []
    for key in sorted(set(before) - set(after)):
        items.append(
            (
                WEAKENED,
                "ENDPOINT_POLICY_WIDENED",
                f"policy widened: {_policy_summary({'Statement': [before[key]]})} "
                "removed",
            )
        )
    for key in sorted(set(after) - set(before)):
        items.append(
            (
                REMOVED,
                "ENDPOINT_POLICY_NARROWED",
                f"policy narrowed: {_policy_summary({'Statement': [after[key]]})} "
                "added",
            )
        )
    return items


# Topics and budgets ------------------------------------------------------------


def _diff_topic(
    context: _Context,
    account_id: str,
    old: Mapping[str, PolicyEntry],
    new: Mapping[str, PolicyEntry],
) -> list[_Item]:
    if not new:
        return [(REMOVED, "TOPIC_REMOVED", "alarm topic removed")]
    items: list[_Item] = []
    if not old:
        items.append((ADDED, "TOPIC_ADDED", "alarm topic added"))
    items.extend(
        _grant_changes(
            _document(old, TOPIC_POLICY),
            _document(new, TOPIC_POLICY),
            context.partitions.get(account_id, "aws"),
            role=False,
        )
    )
    if not items and _documents(old) != _documents(new):
        items.append((CHANGED, "TOPIC_POLICY_CHANGED", "topic policy changed"))
    return items


def _describe_notification(notification: Mapping[str, Any]) -> str:
    operator = _OPERATORS.get(notification["comparisonOperator"], "?")
    unit = "%" if notification["thresholdType"] == "PERCENTAGE" else "USD"
    return (
        f"{notification['notificationType']} {operator} "
        f"{notification['threshold']} {unit}"
    )


def _recipient_set(notification: Mapping[str, Any]) -> list[str]:
    recipients = list(notification.get("emails") or [])
    if notification.get("snsTopic"):
        recipients.append("the alarm topic")
    return recipients


def _recipients(notification: Mapping[str, Any]) -> str:
    return _joined(_recipient_set(notification)) or "nobody"


def _notification_key(notification: Mapping[str, Any]) -> tuple[Any, ...]:
    return (
        notification["notificationType"],
        notification["comparisonOperator"],
        notification["thresholdType"],
        Decimal(notification["threshold"]),
    )


def _diff_budget(
    context: _Context,
    account_id: str,
    old: Mapping[str, PolicyEntry],
    new: Mapping[str, PolicyEntry],
) -> list[_Item]:
    before = _document(old, BUDGET)
    after = _document(new, BUDGET)
    if after is None:
        return [(REMOVED, "BUDGET_REMOVED", "budget removed")]
    items: list[_Item] = []
    if before is None:
        service = f" on {after['service']}" if after.get("service") else ""
        items.append(
            (
                ADDED,
                "BUDGET_ADDED",
                f"budget added: {after['limitUsd']} USD a month{service}",
            )
        )
        before = {"limitUsd": after["limitUsd"], "service": after.get("service")}
    if Decimal(before["limitUsd"]) != Decimal(after["limitUsd"]):
        items.append(
            (
                CHANGED,
                "BUDGET_LIMIT_CHANGED",
                f"limit changed from {before['limitUsd']} USD to "
                f"{after['limitUsd']} USD",
            )
        )

    if before.get("service") != after.get("service"):
        items.append(
            (
                CHANGED,
                "BUDGET_FILTER_CHANGED",
                f"service filter changed from {before.get('service') or 'none'} to "
                f"{after.get('service') or 'none'}",
            )
        )

    old_notifications = {
        _notification_key(item): item for item in before.get("notifications") or []
    }
    new_notifications = {
        _notification_key(item): item for item in after.get("notifications") or []
    }
    for key in sorted(set(new_notifications) - set(old_notifications)):
        item = new_notifications[key]
        items.append(
            (
                ADDED,
                "NOTIFICATION_ADDED",
                f"notification {_describe_notification(item)} to {_recipients(item)}",
            )
        )
    for key in sorted(set(old_notifications) - set(new_notifications)):
        item = old_notifications[key]
        items.append(
            (
                REMOVED,
                "NOTIFICATION_REMOVED",
                f"notification {_describe_notification(item)} removed",
            )
        )

    for key in sorted(set(old_notifications) & set(new_notifications)):
        old_item, new_item = old_notifications[key], new_notifications[key]
        described = _describe_notification(new_item)
        before_recipients = _recipient_set(old_item)
        after_recipients = _recipient_set(new_item)
        gained = [item for item in after_recipients if item not in before_recipients]
        lost = [item for item in before_recipients if item not in after_recipients]
        if gained:
            items.append(
                (
                    ADDED,
                    "NOTIFICATION_RECIPIENT_ADDED",
                    f"notification {described} now also notifies {_joined(gained)}",
                )
            )
        if lost:
            items.append(
                (
                    REMOVED,
                    "NOTIFICATION_RECIPIENT_REMOVED",
                    f"notification {described} no longer notifies {_joined(lost)}",
                )
            )
    return items


_Handler = Callable[
    [_Context, str, Mapping[str, PolicyEntry], Mapping[str, PolicyEntry]], list[_Item]
]
_HANDLERS: dict[str, _Handler] = {
    "role": _diff_role,
    "layer": _diff_layer,
    "endpoint": _diff_endpoint,
    "topic": _diff_topic,
    "budget": _diff_budget,
}

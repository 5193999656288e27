"""A policy set: every policy-like document of one stack, by account, kind and name.

Three sources give one: the plan (what `pulumi up` would deploy now), a snapshot
directory written by `python -m governance policies`, and the JSON of
`pulumi stack export` (what is deployed). The semantic diff compares two sets and
the findings check one, whatever their source.

Documents are plain JSON values with every secret already masked as `[secret]`, so
two sets compare by value and nothing read from them can reveal an external id.
"""

from __future__ import annotations

import decimal
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from governance import aws_formats, policy
from governance.problems import SECRET_MASK, Problem, show

# Kinds of entry. Role settings and budgets are not IAM policies,
# but the diff needs them (session duration, managed policies, budget limits).
ROLE = "role"
TRUST_POLICY = "trust-policy"
PERMISSION_POLICY = "permission-policy"
LAYER_POLICY = "layer-policy"
ENDPOINT_POLICY = "endpoint-policy"
TOPIC_POLICY = "topic-policy"
BUDGET = "budget"
KINDS = (
    ROLE,
    TRUST_POLICY,
    PERMISSION_POLICY,
    LAYER_POLICY,
    ENDPOINT_POLICY,
    TOPIC_POLICY,
    BUDGET,
)

# File names keep the characters IAM allows in role names; anything else becomes "_".
_UNSAFE_FILE_CHARACTERS = re.compile(r"[^A-Za-z0-9+=,.@_-]")

# IAM unique ids that AWS writes in a stored policy in place of a deleted principal:
# AROA (role), AIDA (user), AGPA (group). Example: "AROA3XFRBF23EXAMPLE01".
UNIQUE_ID = re.compile(r"^(AROA|AIDA|AGPA)[A-Z0-9]{12,}$")


@dataclass(frozen=True, order=True)
class AccountInfo:
    """A member account: its name, id and region."""

    name: str
    id: str
    region: str

    @property
    def partition(self) -> str:
        """Return the ARN partition of the account's region ("aws" when unknown)."""
        try:
            return aws_formats.partition_of(self.region)
        except KeyError:
            return "aws"


@dataclass(frozen=True)
class PolicyEntry:
    """One document: a policy, a role's settings or a budget, in one account.

    `attributes` carries facts about the resource that are not in the document,
    such as an endpoint's type, for the checks and the snapshot's index.
    """

    account: str
    account_id: str
    kind: str
    name: str
    document: Mapping[str, Any]
    attributes: Mapping[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str, str]:
        """Return what identifies the entry across sources: account id, kind, name."""
        return (self.account_id, self.kind, self.name)

    @property
    def path(self) -> str:
        """Return the entry's file path in a snapshot, relative to its directory."""
        return f"{self.account}/{self.kind}/{file_stem(self.name)}.json"

    @property
    def resource(self) -> str:
        """Return the resource the entry describes, for example `role Deployer`."""
        return f"{resource_type(self.kind)} {self.name}"


@dataclass(frozen=True)
class PolicySet:
    """Every entry of one stack from one source, with the accounts it covers.

    `source` names where the set comes from, for example `snapshot policies/prod`.
    `management_account_id` and the accounts' ids are the accounts inside the
    organization, as far as this set records them.
    """

    source: str
    project: str | None
    stack: str | None
    organization_id: str | None
    management_account_id: str | None
    accounts: tuple[AccountInfo, ...]
    entries: tuple[PolicyEntry, ...]
    trust_policy_length: int = aws_formats.TRUST_POLICY_LENGTH_DEFAULT

    def by_key(self) -> dict[tuple[str, str, str], PolicyEntry]:
        """Return the entries by their key."""
        return {entry.key: entry for entry in self.entries}

    def account_names(self) -> dict[str, str]:
        """Return account names by account id, the management account included."""
        names = {account.id: account.name for account in self.accounts}
        if self.management_account_id:
            names.setdefault(self.management_account_id, "management")
        return names

    def organization_account_ids(self) -> frozenset[str]:
        """Return the ids of every account known to be in the organization."""
        ids = {account.id for account in self.accounts}
        if self.management_account_id:
            ids.add(self.management_account_id)
        return frozenset(ids)


def resource_type(kind: str) -> str:
    """Return the resource type a kind of entry belongs to, for labels."""
    return {
        ROLE: "role",
        TRUST_POLICY: "role",
        PERMISSION_POLICY: "role",
        LAYER_POLICY: "layer",
        ENDPOINT_POLICY: "endpoint",
        TOPIC_POLICY: "topic",
        BUDGET: "budget",
    }[kind]


def file_stem(name: str) -> str:
    """Return a file name for an entry name: `[A-Za-z0-9+=,.@_-]`, others as "_"."""
    return _UNSAFE_FILE_CHARACTERS.sub("_", name)


def mask(document: Any) -> Any:
    """Return a document as plain JSON values with every Secret masked."""
    return json.loads(policy.to_json(document))


def mask_external_ids(document: Any) -> Any:
    """Mask the values of `sts:ExternalId` conditions in a policy read from AWS.

    A stack exported with `--show-secrets` contains the real external id; it must
    never reach a report, and two sources compare it as present or absent only.
    """
    if isinstance(document, Mapping):
        result = {}
        for key, value in document.items():
            if key.lower() == "sts:externalid" and not isinstance(value, Mapping):
                result[key] = _masked_like(value)
            else:
                result[key] = mask_external_ids(value)
        return result
    if isinstance(document, list):
        return [mask_external_ids(item) for item in document]
    return document


def _masked_like(value: Any) -> Any:
    if isinstance(value, list):
        return [SECRET_MASK for _ in value]
    return SECRET_MASK


def layer_policy(
    layer_arn: str,
    partition: str,
    permissions: Iterable[tuple[str, str, str | None, str]],
) -> dict[str, Any]:
    """Build a layer version's policy from its permissions.

    Each permission is (statement id, principal, organization id, action), the
    arguments of `AddLayerVersionPermission`. AWS stores an account id as its root
    ARN and an organization id as an `aws:PrincipalOrgID` condition. The resource
    is the layer ARN without a version number, because the plan cannot know the
    number AWS assigns; the policy is the same on every version.
    """
    statements = []
    for statement_id, principal, organization_id, action in permissions:
        if principal == "*" or principal.startswith("arn:"):
            grantee: Any = principal if principal == "*" else {"AWS": principal}
        else:
            grantee = {"AWS": f"arn:{partition}:iam::{principal}:root"}
        statement: dict[str, Any] = {
            "Sid": statement_id,
            "Effect": "Allow",
            "Principal": grantee,
            "Action": action,
            "Resource": layer_arn,
        }
        if organization_id:
            statement["Condition"] = {
                "StringEquals": {"aws:PrincipalOrgID": organization_id}
            }
        statements.append(statement)
    if not statements:
        # A layer shared with no account: IAM has no empty policy, but a reviewer
        # should still see the layer, so the document lists no statement.
        return {"Version": policy.VERSION, "Statement": []}
    return policy.policy(*statements)


def shape_problems(
    policy_set: PolicySet, generated: PolicySet | None = None
) -> list[Problem]:
    """Check that every document of a set read from a file has its kind's shape.

    A snapshot or a stack export can be edited by hand or arrive in a pull
    request. The diff and the findings expect the shape that `governance.snapshot`
    writes, so any other shape is reported here, one problem per document. An
    entry equal to its counterpart in `generated`, a set this program built, has
    that set's shape and is not checked again.
    """
    known = generated.by_key() if generated is not None else {}
    problems = []
    for entry in policy_set.entries:
        twin = known.get(entry.key)
        if (
            twin is not None
            and twin.document == entry.document
            and twin.attributes == entry.attributes
        ):
            continue
        reason = _shape_reason(entry.kind, entry.document)
        if reason is None and not isinstance(entry.attributes, Mapping):
            reason = "its attributes are not an object"
        if reason is not None:
            problems.append(
                Problem(
                    f"{policy_set.source}: {entry.path}",
                    f"{resource_type(entry.kind)} {entry.name}: {reason}",
                    _shown(entry.document),
                    f"a {entry.kind} document as `python -m governance policies` "
                    "writes it",
                    "write the snapshot again, or export the stack again",
                )
            )
    return problems


def _shown(document: Any) -> str:
    try:
        return show(mask_external_ids(document))
    except RecursionError:
        return "a document nested too deep to show"


def _shape_reason(kind: str, document: Any) -> str | None:
    if not isinstance(document, Mapping):
        return "the document is not an object"
    try:
        if kind == ROLE:
            return _role_shape(document)
        if kind == BUDGET:
            return _budget_shape(document)
        return _policy_shape(document)
    except RecursionError:
        return "the document is nested too deep"


def _policy_shape(document: Mapping[str, Any]) -> str | None:
    found = document.get("Statement")
    items = [found] if isinstance(found, Mapping) else found
    if not isinstance(items, list):
        return "Statement is neither an object nor a list"
    for index, statement in enumerate(items):
        if not isinstance(statement, Mapping):
            return f"Statement[{index}] is not an object"
        for key in ("Action", "NotAction", "Resource", "NotResource"):
            if key in statement and not _strings(statement[key]):
                return f"Statement[{index}].{key} is neither a string nor strings"
        for key in ("Principal", "NotPrincipal"):
            value = statement.get(key)
            if value is not None and not _principal_shape(value):
                return f"Statement[{index}].{key} is not '*' or an object of strings"
        condition = statement.get("Condition")
        if condition is not None and not (
            isinstance(condition, Mapping)
            and all(
                isinstance(keys, Mapping)
                and all(_scalars(value) for value in keys.values())
                for keys in condition.values()
            )
        ):
            return f"Statement[{index}].Condition is not an object of operators"
    return None


def _principal_shape(value: Any) -> bool:
    if value == "*":
        return True
    return isinstance(value, Mapping) and all(_strings(item) for item in value.values())


def _role_shape(document: Mapping[str, Any]) -> str | None:
    duration = document.get("maxSessionDuration")
    if duration is not None and (
        isinstance(duration, bool) or not isinstance(duration, int)
    ):
        return "maxSessionDuration is not a whole number"
    for key in ("name", "path", "permissionsBoundary"):
        if document.get(key) is not None and not isinstance(document[key], str):
            return f"{key} is not a string"
    arns = document.get("managedPolicyArns")
    if arns is not None and not (
        isinstance(arns, list) and all(isinstance(arn, str) for arn in arns)
    ):
        return "managedPolicyArns is not a list of strings"
    return None


def _budget_shape(document: Mapping[str, Any]) -> str | None:
    if not _amount(document.get("limitUsd")):
        return "limitUsd is not an amount"
    notifications = document.get("notifications")
    if not isinstance(notifications, list):
        return "notifications is not a list"
    keys = ("notificationType", "comparisonOperator", "thresholdType", "threshold")
    for index, notification in enumerate(notifications):
        if not isinstance(notification, Mapping) or not all(
            isinstance(notification.get(key), str) for key in keys
        ):
            return f"notifications[{index}] lacks one of {', '.join(keys)}"
        if not _amount(notification["threshold"]):
            return f"notifications[{index}].threshold is not an amount"
        emails = notification.get("emails")
        if emails is not None and not _strings(emails):
            return f"notifications[{index}].emails is not a list of strings"
    return None


def _strings(value: Any) -> bool:
    if isinstance(value, str):
        return True
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _scalars(value: Any) -> bool:
    items = value if isinstance(value, list) else [value]
    return all(isinstance(item, str | int | float | bool) for item in items)


def _amount(value: Any) -> bool:
    """Say whether a value is a finite decimal amount, as text or a number."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return False
    text = str(value)
    if len(text) > 40:
        return False
    try:
        amount = decimal.Decimal(text)
    except decimal.InvalidOperation:
        return False
    return amount.is_finite()

"""Trust and permission policies of execution roles, and their quota checks.

A trust policy grants `sts:AssumeRole` to exactly the principals a role definition
names. Principals inside the organization are written as their account
(`arn:aws:iam::ID:root`), narrowed by `aws:PrincipalArn` to the named roles and by
`aws:PrincipalOrgID`. They are never written as role ARNs, because IAM rejects a
policy naming a role that does not exist yet (`MalformedPolicyDocument: Invalid
principal`) and keeps a deleted role's unique id (`AROA...`) after the role is
recreated. Units add
`aws:PrincipalOrgPaths`. Principals outside the organization always require
`sts:ExternalId`.

Statements, by Sid:

- `OrgAccountRoles`: roles in named accounts. One statement serves every account,
  because each allowed ARN contains its own account id.
- `OrgUnit<Name>`: roles in any account of one unit. One statement per unit, so a
  role name trusted in one unit is never trusted in another.
- `PartnerRoles` and `PartnerAccounts`: partner accounts, narrowed to named roles
  or trusted whole (the partner's administrators then decide who may assume).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from governance import aws_formats, policy
from governance.problems import Problem
from governance.roles import (
    PLACEHOLDER,
    ExecutionRole,
    TrustEntry,
    unit_statement_id,
)

ASSUME_ROLE = "sts:AssumeRole"
TAG_SESSION = "sts:TagSession"
SET_SOURCE_IDENTITY = "sts:SetSourceIdentity"
INLINE_LIMIT = aws_formats.INLINE_POLICIES_PER_ROLE_LENGTH


@dataclass(frozen=True)
class RolePlan:
    """One execution role in one account, with its documents as canonical data."""

    resource_name: str
    name: str
    path: str
    description: str
    max_session_duration: int
    trust_policy: Mapping[str, Any]
    permissions_boundary: str | None
    managed_policy_arns: tuple[str, ...]
    inline_policy: Mapping[str, Any] | None


def actions(role: ExecutionRole) -> list[str]:
    """Return the STS actions the trust policy allows: AssumeRole, plus opt-ins."""
    allowed = [ASSUME_ROLE]
    if role.allow_session_tags:
        allowed.append(TAG_SESSION)
    if role.allow_source_identity:
        allowed.append(SET_SOURCE_IDENTITY)
    return allowed


def role_pattern_arn(partition: str, account: str, pattern: str) -> str:
    """Return the ARN (or ARN pattern) of a trusted role pattern in an account.

    "deployer" -> arn:aws:iam::ID:role/deployer; "ci/*" -> arn:aws:iam::ID:role/ci/*.
    """
    return f"arn:{partition}:iam::{account}:role/{pattern}"


def _root(partition: str, account: str) -> str:
    return f"arn:{partition}:iam::{account}:root"


def _common_conditions(role: ExecutionRole) -> dict[str, dict[str, Any]]:
    condition: dict[str, dict[str, Any]] = {}
    if role.external_id is not None:
        condition.setdefault("StringEquals", {})["sts:ExternalId"] = role.external_id
    if role.require_mfa:
        condition["Bool"] = {"aws:MultiFactorAuthPresent": "true"}
    return condition


def _in_org(
    condition: dict[str, dict[str, Any]], organization_id: str
) -> dict[str, Any]:
    result = {operator: dict(keys) for operator, keys in condition.items()}
    result.setdefault("StringEquals", {})["aws:PrincipalOrgID"] = organization_id
    return result


def trust_policy(
    role: ExecutionRole, organization_id: str, partition: str
) -> dict[str, Any]:
    """Build the canonical trust policy of a role definition.

    The result is the same for every target account: it names principals only.
    """
    allowed = actions(role)
    common = _common_conditions(role)
    statements: list[dict[str, Any]] = []

    accounts = [entry for entry in role.trust if entry.kind == "account"]
    if accounts:
        statements.append(
            {
                "Sid": "OrgAccountRoles",
                "Effect": "Allow",
                "Principal": {
                    "AWS": [
                        _root(partition, entry.account_ids[0]) for entry in accounts
                    ]
                },
                "Action": allowed,
                "Condition": {
                    **_in_org(common, organization_id),
                    "ArnLike": {"aws:PrincipalArn": _entry_arns(accounts, partition)},
                },
            }
        )

    units: dict[str, list[TrustEntry]] = {}
    for entry in role.trust:
        if entry.kind == "unit":
            units.setdefault(entry.unit or "", []).append(entry)
    for unit, entries in sorted(units.items()):
        condition = _in_org(common, organization_id)
        condition["ForAnyValue:StringLike"] = {
            "aws:PrincipalOrgPaths": f"{entries[0].unit_path}*"
        }
        condition["ArnLike"] = {
            "aws:PrincipalArn": sorted(
                {
                    role_pattern_arn(partition, "*", pattern)
                    for entry in entries
                    for pattern in entry.roles
                }
            )
        }
        statements.append(
            {
                "Sid": unit_statement_id(unit),
                "Effect": "Allow",
                "Principal": {
                    "AWS": [
                        _root(partition, account) for account in entries[0].account_ids
                    ]
                },
                "Action": allowed,
                "Condition": condition,
            }
        )

    partner_roles = [
        entry for entry in role.trust if entry.kind == "partner" and entry.roles
    ]
    if partner_roles:
        statements.append(
            {
                "Sid": "PartnerRoles",
                "Effect": "Allow",
                "Principal": {
                    "AWS": [
                        _root(partition, entry.account_ids[0])
                        for entry in partner_roles
                    ]
                },
                "Action": allowed,
                "Condition": {
                    **common,
                    "ArnLike": {
                        "aws:PrincipalArn": _entry_arns(partner_roles, partition)
                    },
                },
            }
        )
    partner_accounts = [
        entry for entry in role.trust if entry.kind == "partner" and not entry.roles
    ]
    if partner_accounts:
        statements.append(
            {
                "Sid": "PartnerAccounts",
                "Effect": "Allow",
                "Principal": {
                    "AWS": [
                        _root(partition, entry.account_ids[0])
                        for entry in partner_accounts
                    ]
                },
                "Action": allowed,
                "Condition": dict(common),
            }
        )
    return policy.policy(*statements)


def _entry_arns(entries: list[TrustEntry], partition: str) -> list[str]:
    return sorted(
        {
            role_pattern_arn(partition, entry.account_ids[0], pattern)
            for entry in entries
            for pattern in entry.roles
        }
    )


def _fill(value: Any, values: Mapping[str, str]) -> Any:
    # The pattern skips IAM policy variables such as ${aws:username}.
    if isinstance(value, str):
        return PLACEHOLDER.sub(
            lambda match: values.get(match.group(1), match.group(0)), value
        )
    if isinstance(value, Mapping):
        return {key: _fill(item, values) for key, item in value.items()}
    if isinstance(value, list):
        return [_fill(item, values) for item in value]
    return value


def permission_policy(
    role: ExecutionRole, account_id: str, region: str, partition: str
) -> dict[str, Any] | None:
    """Build the inline policy of a role in one account, placeholders resolved."""
    if not role.statements:
        return None
    values = {"account": account_id, "region": region, "partition": partition}
    return policy.policy(
        *(_fill(dict(statement), values) for statement in role.statements)
    )


def plan_role(
    role: ExecutionRole,
    account: Any,
    organization: Any,
    trust: Mapping[str, Any],
    problems: list[Problem],
) -> RolePlan | None:
    """Plan one role in one account; add a problem for each quota it exceeds."""
    values = {
        "account": account.id,
        "region": account.region,
        "partition": account.partition,
    }
    path = f"executionRoles[{role.index}]"
    inline = permission_policy(role, account.id, account.region, account.partition)
    if inline is not None:
        size = policy.size_without_whitespace(inline)
        if size > INLINE_LIMIT:
            problems.append(
                Problem(
                    f"{path}.statements",
                    f"inline policy of role {role.name} in account {account.name} is "
                    f"{size:,} characters without whitespace, over IAM's quota",
                    f"{size:,} characters",
                    f"at most {INLINE_LIMIT:,} characters for all inline policies of "
                    "a role",
                    "move statements into a customer managed policy and list it in "
                    "managedPolicyArns",
                )
            )
            return None
    return RolePlan(
        # "/" appears in neither account nor role names, so no two names collide.
        resource_name=f"{account.name}/{role.name}",
        name=role.name,
        path=role.path,
        description=role.description,
        max_session_duration=role.max_session_duration,
        trust_policy=trust,
        permissions_boundary=_fill(role.permissions_boundary, values),
        # {partition} and a written partition can name the same policy twice.
        managed_policy_arns=tuple(
            sorted({_fill(arn, values) for arn in role.managed_policy_arns})
        ),
        inline_policy=inline,
    )


def check_role_quotas(
    role: ExecutionRole, trust: Mapping[str, Any], organization: Any
) -> list[Problem]:
    """Check a role definition against the trust policy and managed policy quotas."""
    problems = []
    path = f"executionRoles[{role.index}]"
    size = policy.size_without_whitespace(trust)
    quota = organization.trust_policy_length
    if size > quota:
        # The external id counts against the quota, but its length is not shown.
        hidden = policy.secret_characters(trust)
        reported_size = f"{size - hidden:,} characters" + (
            " plus its external ids" if hidden else ""
        )
        problems.append(
            Problem(
                f"{path}.trustedPrincipals",
                f"trust policy of role {role.name} is {reported_size} without "
                "whitespace, over the quota",
                reported_size,
                f"at most {quota:,} characters (organization.quotas.trustPolicyLength)",
                "trust a unit in place of many accounts, or raise the IAM quota "
                "'Role trust policy length' and set "
                "organization.quotas.trustPolicyLength",
            )
        )
    count = len(role.managed_policy_arns)
    limit = organization.managed_policies_per_role
    if count > limit:
        problems.append(
            Problem(
                f"{path}.managedPolicyArns",
                f"role {role.name} attaches {count} managed policies, over the quota",
                f"{count} policies",
                f"at most {limit} (organization.quotas.managedPoliciesPerRole)",
                "combine policies, or raise the IAM quota 'Managed policies per role' "
                "and set organization.quotas.managedPoliciesPerRole",
            )
        )
    return problems


def plan_roles(
    organization: Any, problems: list[Problem]
) -> dict[str, tuple[RolePlan, ...]]:
    """Plan every execution role in every target account, by account name."""
    by_account: dict[str, list[RolePlan]] = {}
    for role in organization.execution_roles:
        trust = trust_policy(role, organization.id, organization.partition)
        quota_problems = check_role_quotas(role, trust, organization)
        if quota_problems:
            problems.extend(quota_problems)
            continue
        for name in role.target_accounts:
            account = organization.account_by_name[name]
            planned = plan_role(role, account, organization, trust, problems)
            if planned is not None:
                by_account.setdefault(name, []).append(planned)
    return {
        name: tuple(sorted(plans, key=lambda plan: plan.name.lower()))
        for name, plans in by_account.items()
    }

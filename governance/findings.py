"""Findings: risky but valid policies, each with a stable code and a severity.

Invalid input raises; what is valid but risky becomes a `Finding`, as Access
Analyzer and parliament report them. `check` runs every check over a policy set
(generated from the plan, read from a snapshot, or deployed), so the same rules
judge what would be deployed and what is.

Severities, from the most serious: ERROR (the policy does not do what it should,
or grants everything), SECURITY_WARNING (access wider than a reviewer would
expect), WARNING (likely too wide, or close to a limit), SUGGESTION.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from governance import grants as access
from governance import policy
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
)

# A trust policy at or above this share of its quota is reported as near it, so a
# few more trusted principals do not fail `pulumi up` unannounced.
NEAR_QUOTA_SHARE = 0.9
# Maximum session duration that needs no comment: 4 hours.
LONG_SESSION_SECONDS = 4 * 3600

# AWS managed policies that grant (nearly) everything, with what they allow.
ADMIN_LIKE_MANAGED_POLICIES = {
    "AdministratorAccess": "every action on every resource",
    "PowerUserAccess": "every action except most of IAM and Organizations",
    "IAMFullAccess": "every IAM action, so it can grant itself anything",
}
# Services whose wildcard lets a principal grant itself more access.
ESCALATION_SERVICES = frozenset({"iam", "sts", "organizations"})
# Condition keys that confine a `*` principal to the organization or an account.
ORGANIZATION_KEYS = frozenset(
    {"aws:principalorgid", "aws:principalorgpaths", "aws:principalaccount"}
)
# Condition keys that confine a service principal to a source.
SOURCE_KEYS = frozenset({"aws:sourceaccount", "aws:sourcearn", "aws:sourceowner"})


class Severity(enum.IntEnum):
    """The seriousness of a finding: a higher value is more serious."""

    SUGGESTION = 1
    WARNING = 2
    SECURITY_WARNING = 3
    ERROR = 4


@dataclass(frozen=True)
class Finding:
    """One risky construct, where it is and why it matters.

    `statement` is the Sid, `Statement[<index>]`, or empty when the finding is
    about the resource as a whole. `source` is `generated` or `deployed`.
    """

    code: str
    severity: Severity
    account: str
    account_id: str
    resource: str
    statement: str
    message: str
    source: str = "generated"

    def line(self) -> str:
        """Render the finding as one line for a terminal."""
        where = f"{self.account} ({self.account_id}) {self.resource}"
        if self.statement:
            where += f" statement {self.statement}"
        return f"{self.severity.name} {self.code} {where}: {self.message}"

    def as_dict(self) -> dict[str, str]:
        """Return the finding as a JSON-ready mapping."""
        return {
            "code": self.code,
            "severity": self.severity.name,
            "account": self.account,
            "accountId": self.account_id,
            "resource": self.resource,
            "statement": self.statement,
            "message": self.message,
            "source": self.source,
        }


def check(
    policy_set: PolicySet,
    source: str = "generated",
    organization_accounts: Iterable[str] = (),
) -> list[Finding]:
    """Run every check over a policy set; most serious findings first.

    `organization_accounts` adds account ids known to be in the organization to
    those of the set, so a deployed set that lacks some accounts does not report
    them as external.
    """
    inside = policy_set.organization_account_ids() | set(organization_accounts)
    found: list[Finding] = []
    for entry in policy_set.entries:
        for code, severity, statement, message in _CHECKS[entry.kind](
            entry, inside, policy_set.trust_policy_length
        ):
            found.append(
                Finding(
                    code,
                    severity,
                    entry.account,
                    entry.account_id,
                    entry.resource,
                    statement,
                    message,
                    source,
                )
            )
    return sorted(
        set(found),
        key=lambda item: (
            -item.severity,
            item.account,
            item.resource,
            item.code,
            item.statement,
            item.message,
        ),
    )


def at_or_above(findings: Iterable[Finding], severity: Severity) -> list[Finding]:
    """Return the findings of a severity or a more serious one."""
    return [finding for finding in findings if finding.severity >= severity]


# A finding before it is placed: (code, severity, statement, message).
_Raw = tuple[str, Severity, str, str]


def _allow_statements(entry: PolicyEntry) -> list[tuple[str, Mapping[str, Any]]]:
    return [
        (access.statement_name(statement, index), statement)
        for index, statement in enumerate(access.statements(entry.document))
        if statement.get("Effect") == "Allow"
    ]


def _condition_names(statement: Mapping[str, Any]) -> set[str]:
    return {condition.name for condition in access.conditions_of(statement)}


def _check_permissions(entry: PolicyEntry, inside: Any, quota: int) -> list[_Raw]:
    found: list[_Raw] = []
    for name, statement in _allow_statements(entry):
        actions = access.as_list(statement.get("Action"))
        resources = access.as_list(statement.get("Resource"))
        if "NotAction" in statement:
            found.append(
                (
                    "ALLOW_WITH_NOT_ACTION",
                    Severity.SECURITY_WARNING,
                    name,
                    "allows every action but those listed, including actions "
                    "AWS adds later",
                )
            )
        if "*" in actions and "*" in resources:
            found.append(
                (
                    "ADMIN_LIKE_PERMISSIONS",
                    Severity.ERROR,
                    name,
                    "allows every action on every resource",
                )
            )
            continue
        if "*" in actions:
            found.append(
                (
                    "WILDCARD_ACTION",
                    Severity.SECURITY_WARNING,
                    name,
                    "allows every action (*); list the actions the role needs",
                )
            )
        for action in actions:
            service, _, operation = action.partition(":")
            if operation == "*":
                severity = (
                    Severity.SECURITY_WARNING
                    if service.lower() in ESCALATION_SERVICES
                    else Severity.WARNING
                )
                found.append(
                    (
                        "WILDCARD_ACTION",
                        severity,
                        name,
                        f"allows every {service} action ({action}); list the "
                        "actions the role needs",
                    )
                )
        if "*" in resources:
            found.append(
                (
                    "WILDCARD_RESOURCE",
                    Severity.WARNING,
                    name,
                    "applies to every resource (*); name the resources, unless the "
                    "actions support no resource-level permissions",
                )
            )
        if "NotResource" in statement:
            found.append(
                (
                    "ALLOW_WITH_NOT_RESOURCE",
                    Severity.WARNING,
                    name,
                    "allows every resource but those listed",
                )
            )
        found.extend(_arn_wildcards(name, resources))
    return found


def _arn_wildcards(name: str, resources: list[str]) -> list[_Raw]:
    found: list[_Raw] = []
    for resource in resources:
        parts = resource.split(":", 5)
        if len(parts) != 6 or parts[0] != "arn":
            continue
        if "*" in parts[4] or "?" in parts[4]:
            found.append(
                (
                    "RESOURCE_ACCOUNT_WILDCARD",
                    Severity.SECURITY_WARNING,
                    name,
                    f"resource {resource} matches any account, other organizations' "
                    "included; use {account} or an account id",
                )
            )
        if "*" in parts[3] or "?" in parts[3]:
            found.append(
                (
                    "RESOURCE_REGION_WILDCARD",
                    Severity.WARNING,
                    name,
                    f"resource {resource} matches any region; use {{region}} or a "
                    "region name",
                )
            )
    return found


def _check_role(entry: PolicyEntry, inside: Any, quota: int) -> list[_Raw]:
    found: list[_Raw] = []
    boundary = entry.document.get("permissionsBoundary")
    for arn in entry.document.get("managedPolicyArns") or []:
        parts = arn.split(":", 5)
        if len(parts) != 6 or parts[4] != "aws":
            continue
        name = parts[5].rsplit("/", 1)[-1]
        allows = ADMIN_LIKE_MANAGED_POLICIES.get(name)
        if allows is None:
            continue
        if name == "AdministratorAccess":
            severity = Severity.ERROR
        elif boundary:
            severity = Severity.WARNING
        else:
            severity = Severity.SECURITY_WARNING
        limit = (
            f"; the permissions boundary {boundary} limits it"
            if boundary
            else "; no permissions boundary limits it"
        )
        found.append(
            (
                "ADMIN_LIKE_PERMISSIONS",
                severity,
                "",
                f"attaches {arn}, which allows {allows}{limit}",
            )
        )
    duration = int(entry.document.get("maxSessionDuration") or 3600)
    if duration > LONG_SESSION_SECONDS:
        found.append(
            (
                "LONG_SESSION",
                Severity.SUGGESTION,
                "",
                f"sessions last up to {duration} s; credentials that leak stay valid "
                f"that long, so consider {LONG_SESSION_SECONDS} s or less",
            )
        )
    return found


def _check_trust(entry: PolicyEntry, inside: Any, quota: int) -> list[_Raw]:
    found: list[_Raw] = []
    size = policy.size_without_whitespace(entry.document)
    if size > quota:
        found.append(
            (
                "TRUST_POLICY_OVER_QUOTA",
                Severity.ERROR,
                "",
                f"{size:,} characters without whitespace, over the quota of "
                f"{quota:,}; IAM rejects it",
            )
        )
    elif size >= NEAR_QUOTA_SHARE * quota:
        found.append(
            (
                "TRUST_POLICY_NEAR_QUOTA",
                Severity.WARNING,
                "",
                f"{size:,} of {quota:,} characters without whitespace; trust a unit "
                "in place of many accounts, or raise the quota",
            )
        )
    for name, statement in _allow_statements(entry):
        found.extend(_trust_statement(name, statement, inside))
    return found


def _trust_statement(
    name: str, statement: Mapping[str, Any], inside: Any
) -> list[_Raw]:
    found: list[_Raw] = []
    conditions = _condition_names(statement)
    if "NotPrincipal" in statement:
        found.append(
            (
                "ALLOW_WITH_NOT_PRINCIPAL",
                Severity.ERROR,
                name,
                "allows everyone but the principals listed",
            )
        )
    principal_field = statement.get("Principal")
    if isinstance(principal_field, Mapping):
        principals = access.as_list(principal_field.get("AWS"))
    else:
        principals = access.as_list(principal_field)
    for principal in principals:
        if access.is_dead(principal):
            found.append(
                (
                    "DEAD_PRINCIPAL",
                    Severity.ERROR,
                    name,
                    f"principal {principal} is the unique id of a deleted role or "
                    "user; it matches no caller, not even a new role of the same name. "
                    "Trust the account with an aws:PrincipalArn condition instead",
                )
            )
            continue
        if principal == "*":
            if not conditions & (ORGANIZATION_KEYS | {access.PRINCIPAL_ARN_KEY}):
                found.append(
                    (
                        "TRUST_ANYONE",
                        Severity.ERROR,
                        name,
                        "any AWS principal may assume the role",
                    )
                )
            continue
        account = access.account_of(principal)
        if account is None and access.ACCOUNT_ID.match(principal):
            account = principal
        external = account is not None and account not in inside
        if external and "sts:externalid" not in conditions:
            found.append(
                (
                    "EXTERNAL_PRINCIPAL_WITHOUT_EXTERNAL_ID",
                    Severity.SECURITY_WARNING,
                    name,
                    f"{principal} is outside the organization and needs no "
                    "sts:ExternalId, so a confused deputy can use the role",
                )
            )
        whole_account = access.is_account_root(principal) or principal == account
        if whole_account and access.PRINCIPAL_ARN_KEY not in conditions:
            found.append(
                (
                    "WHOLE_ACCOUNT_PRINCIPAL",
                    Severity.WARNING,
                    name,
                    f"{principal} trusts every principal the account's administrators "
                    "allow; add an aws:PrincipalArn condition naming the roles",
                )
            )
    return found


def _check_endpoint(entry: PolicyEntry, inside: Any, quota: int) -> list[_Raw]:
    interface = entry.attributes.get("type") == "Interface"
    severity = Severity.SECURITY_WARNING if interface else Severity.WARNING
    found: list[_Raw] = []
    for name, statement in _allow_statements(entry):
        conditions = _condition_names(statement)
        for grant in access.grants({"Statement": [statement]}):
            account = access.account_of(grant.principal)
            outside = grant.principal == "*" and not conditions & ORGANIZATION_KEYS
            outside = outside or (account is not None and account not in inside)
            if outside:
                found.append(
                    (
                        "ENDPOINT_POLICY_OUTSIDE_ORGANIZATION",
                        severity,
                        name,
                        f"allows {grant.principal}, which includes principals outside "
                        "the organization; add an aws:PrincipalOrgID condition",
                    )
                )
                break
    return found


def _check_resource_policy(entry: PolicyEntry, inside: Any, quota: int) -> list[_Raw]:
    found: list[_Raw] = []
    for name, statement in _allow_statements(entry):
        conditions = _condition_names(statement)
        principal = statement.get("Principal")
        services = access.as_list(
            principal.get("Service") if isinstance(principal, Mapping) else None
        )
        if services and not conditions & SOURCE_KEYS:
            found.append(
                (
                    "SERVICE_PRINCIPAL_WITHOUT_SOURCE",
                    Severity.SECURITY_WARNING,
                    name,
                    f"{', '.join(services)} may act for any account; add "
                    "aws:SourceAccount or aws:SourceArn",
                )
            )
        everyone = principal == "*" or (
            isinstance(principal, Mapping)
            and "*" in access.as_list(principal.get("AWS"))
        )
        if everyone and not conditions & (ORGANIZATION_KEYS | SOURCE_KEYS):
            found.append(
                (
                    "PUBLIC_RESOURCE_POLICY",
                    Severity.ERROR,
                    name,
                    "allows anyone (*) with no organization or source condition",
                )
            )
        for grant in access.grants({"Statement": [statement]}):
            account = access.account_of(grant.principal)
            if account is not None and account not in inside:
                found.append(
                    (
                        "SHARED_OUTSIDE_ORGANIZATION",
                        Severity.WARNING,
                        name,
                        f"allows account {account}, which is not in the organization",
                    )
                )
    return found


def _no_checks(entry: PolicyEntry, inside: Any, quota: int) -> list[_Raw]:
    return []


_CHECKS = {
    ROLE: _check_role,
    TRUST_POLICY: _check_trust,
    PERMISSION_POLICY: _check_permissions,
    LAYER_POLICY: _check_resource_policy,
    ENDPOINT_POLICY: _check_endpoint,
    TOPIC_POLICY: _check_resource_policy,
    BUDGET: _no_checks,
}

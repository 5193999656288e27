"""The semantic diff: each configuration change with the exact line it produces."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from governance import diff, report, review
from governance.policy_set import (
    ENDPOINT_POLICY,
    PERMISSION_POLICY,
    TRUST_POLICY,
    AccountInfo,
    PolicyEntry,
    PolicySet,
)
from tests.governance.review_helpers import (
    account,
    drop_external_id,
    layer,
    policies,
    role,
    share_layer_with_another_unit,
    trust_one_more_account,
)

Change = Callable[[dict[str, Any]], None]


def no_change(values: dict[str, Any]) -> None:
    """Leave the values as they are."""


def add_account(values: dict[str, Any]) -> None:
    values["accounts"].append(
        {
            "name": "orders-dev",
            "id": "678901234567",
            "organizationalUnit": "workloads-dev",
            "email": "aws+orders-dev@example.com",
        }
    )


def remove_account(values: dict[str, Any]) -> None:
    values["accounts"] = [
        entry for entry in values["accounts"] if entry["name"] != "payments-dev"
    ]


def unshare_layer(values: dict[str, Any]) -> None:
    layer(values, "workload-retry")["sharedWith"] = {"accounts": ["payments-prod"]}


def narrow_sts_endpoint(values: dict[str, Any]) -> None:
    account(values, "shared-services")["network"]["endpoints"][2] = {
        "service": "sts",
        "policy": {"actions": ["sts:AssumeRole"]},
    }


def widen_secrets_endpoint(values: dict[str, Any]) -> None:
    account(values, "shared-services")["network"]["endpoints"][5] = "secretsmanager"


def raise_budget_limit(values: dict[str, Any]) -> None:
    account(values, "payments-prod")["budget"]["limitUsd"] = 25000


def add_notification(values: dict[str, Any]) -> None:
    service = account(values, "payments-prod")["budget"]["services"][0]
    service["notifications"].append({"notificationType": "ACTUAL", "threshold": 80})


def drop_budget_email(values: dict[str, Any]) -> None:
    values["organization"]["budget"]["emails"] = ["finops@example.com"]


def attach_managed_policy(values: dict[str, Any]) -> None:
    role(values, "PartnerAuditRole")["managedPolicyArns"].append(
        "arn:aws:iam::aws:policy/ReadOnlyAccess"
    )


def allow_scan(values: dict[str, Any]) -> None:
    role(values, "CrossAccountLambdaRole")["statements"][0]["actions"].append(
        "dynamodb:Scan"
    )


def remove_boundary(values: dict[str, Any]) -> None:
    del role(values, "WorkloadDeployer")["permissionsBoundary"]


def disallow_session_tags(values: dict[str, Any]) -> None:
    role(values, "WorkloadDeployer")["allowSessionTags"] = False


def raise_session_duration(values: dict[str, Any]) -> None:
    role(values, "WorkloadDeployer")["maxSessionDuration"] = 10800


def require_mfa(values: dict[str, Any]) -> None:
    role(values, "PartnerAuditRole")["requireMfa"] = True


def trust_partner_whole(values: dict[str, Any]) -> None:
    role(values, "PartnerAuditRole")["trustedPrincipals"][0]["roles"] = []


def narrow_role_targets(values: dict[str, Any]) -> None:
    role(values, "CrossAccountLambdaRole")["targets"] = {
        "organizationalUnits": ["workloads-prod"]
    }


# (base change, change now, a line the diff must contain)
CASES: dict[str, tuple[Change, Change, str]] = {
    "trust one more account": (
        no_change,
        trust_one_more_account,
        "+ payments-prod (012345678901) role CrossAccountLambdaRole: "
        "arn:aws:iam::123456789012:role/service-role/orders-lambda-execution may "
        "assume it (sts:AssumeRole) when aws:PrincipalOrgID StringEquals o-7k2m9x4q1z "
        "and sts:ExternalId StringEquals [secret]",
    ),
    "drop an external id": (
        no_change,
        drop_external_id,
        "! payments-prod (012345678901) role CrossAccountLambdaRole: external id no "
        "longer required for "
        "arn:aws:iam::012345678901:role/service-role/payments-lambda-execution, "
        "arn:aws:iam::408765432109:role/service-role/shared-lambda-execution",
    ),
    "share a layer with another unit": (
        no_change,
        share_layer_with_another_unit,
        "+ shared-services (408765432109) layer workload-retry-v1: shared with "
        "account 345678901234 (orders-staging)",
    ),
    "stop sharing a layer": (
        no_change,
        unshare_layer,
        "- shared-services (408765432109) layer workload-retry-v1: no longer shared "
        "with account 123456789012 (orders-prod)",
    ),
    "onboard an account": (
        no_change,
        add_account,
        "+ orders-dev (678901234567): account added (onboarding)",
    ),
    "onboarded account gets its roles": (
        no_change,
        add_account,
        "+ orders-dev (678901234567) role PartnerAuditRole: role added at path /, "
        "maximum session 3600 s",
    ),
    "onboarded account's role boundary": (
        no_change,
        add_account,
        "+ orders-dev (678901234567) role WorkloadDeployer: permissions boundary "
        "arn:aws:iam::678901234567:policy/WorkloadBoundary set",
    ),
    "boundary set on an existing role": (
        remove_boundary,
        no_change,
        "~ payments-prod (012345678901) role WorkloadDeployer: permissions boundary "
        "arn:aws:iam::012345678901:policy/WorkloadBoundary set",
    ),
    "onboarded account's role trust": (
        no_change,
        add_account,
        "+ orders-dev (678901234567) role PartnerAuditRole: "
        "arn:aws:iam::777788889999:role/auditor may assume it (sts:AssumeRole) when "
        "sts:ExternalId StringEquals [secret]",
    ),
    "offboard an account": (
        no_change,
        remove_account,
        "- payments-dev (456789012345): account removed (offboarding)",
    ),
    "offboarded account loses its roles": (
        no_change,
        remove_account,
        "- payments-dev (456789012345) role WorkloadDeployer: role removed",
    ),
    "role no longer targets an account": (
        no_change,
        narrow_role_targets,
        "- payments-dev (456789012345) role CrossAccountLambdaRole: role removed",
    ),
    "require MFA no more": (
        require_mfa,
        no_change,
        "! sandbox (567890123456) role PartnerAuditRole: MFA no longer required for "
        "arn:aws:iam::777788889999:role/auditor",
    ),
    "raise the session duration": (
        no_change,
        raise_session_duration,
        "! orders-prod (123456789012) role WorkloadDeployer: maximum session duration "
        "raised from 7200 s to 10800 s",
    ),
    "lower the session duration": (
        raise_session_duration,
        no_change,
        "~ orders-prod (123456789012) role WorkloadDeployer: maximum session duration "
        "lowered from 10800 s to 7200 s",
    ),
    "drop session tags": (
        no_change,
        disallow_session_tags,
        "- payments-prod (012345678901) role WorkloadDeployer: "
        "arn:aws:iam::408765432109:role/ci/*, arn:aws:iam::507654321098:role/ci/* "
        "may no longer sts:TagSession",
    ),
    "trust a partner account whole": (
        no_change,
        trust_partner_whole,
        "+ sandbox (567890123456) role PartnerAuditRole: "
        "arn:aws:iam::777788889999:root (any principal the account allows) may assume "
        "it (sts:AssumeRole) when sts:ExternalId StringEquals [secret]",
    ),
    "partner role no longer named": (
        no_change,
        trust_partner_whole,
        "- sandbox (567890123456) role PartnerAuditRole: "
        "arn:aws:iam::777788889999:role/auditor may no longer assume it",
    ),
    "remove a permissions boundary": (
        no_change,
        remove_boundary,
        "! payments-prod (012345678901) role WorkloadDeployer: permissions boundary "
        "arn:aws:iam::012345678901:policy/WorkloadBoundary removed",
    ),
    "attach a managed policy": (
        no_change,
        attach_managed_policy,
        "+ log-archive (309876543210) role PartnerAuditRole: managed policy "
        "arn:aws:iam::aws:policy/ReadOnlyAccess attached",
    ),
    "detach a managed policy": (
        attach_managed_policy,
        no_change,
        "- log-archive (309876543210) role PartnerAuditRole: managed policy "
        "arn:aws:iam::aws:policy/ReadOnlyAccess detached",
    ),
    "allow one more action": (
        no_change,
        allow_scan,
        "+ orders-prod (123456789012) role CrossAccountLambdaRole: statement "
        "SharedTables now allows actions dynamodb:Scan",
    ),
    "narrow an endpoint policy": (
        no_change,
        narrow_sts_endpoint,
        "- shared-services (408765432109) endpoint sts: policy narrowed: actions * -> "
        "sts:AssumeRole",
    ),
    "widen an endpoint policy": (
        no_change,
        widen_secrets_endpoint,
        "! shared-services (408765432109) endpoint secretsmanager: policy widened: "
        "actions secretsmanager:DescribeSecret, secretsmanager:GetSecretValue -> *",
    ),
    "endpoint removed with its account": (
        no_change,
        remove_account,
        "- payments-dev (456789012345) endpoint logs: endpoint removed: Interface "
        "com.amazonaws.eu-west-1.logs, policy allows * on * when aws:PrincipalOrgID "
        "StringEquals o-7k2m9x4q1z",
    ),
    "raise a budget limit": (
        no_change,
        raise_budget_limit,
        "~ payments-prod (012345678901) budget payments-prod-monthly-cost: limit "
        "changed from 20000 USD to 25000 USD",
    ),
    "add a budget notification": (
        no_change,
        add_notification,
        "+ payments-prod (012345678901) budget payments-prod-lambda-monthly-cost: "
        "notification ACTUAL > 80 % to finops@example.com, platform-team@example.com, "
        "the alarm topic",
    ),
    "remove a budget notification": (
        add_notification,
        no_change,
        "- payments-prod (012345678901) budget payments-prod-lambda-monthly-cost: "
        "notification ACTUAL > 80 % removed",
    ),
    "notify fewer people": (
        no_change,
        drop_budget_email,
        "- network (507654321098) budget network-monthly-cost: notification "
        "ACTUAL > 80 % no longer notifies platform-team@example.com",
    ),
    "budget and topic of a new account": (
        no_change,
        add_account,
        "+ orders-dev (678901234567) topic orders-dev-budget-alarms: service "
        "budgets.amazonaws.com may SNS:Publish when aws:SourceAccount StringEquals "
        "678901234567 and aws:SourceArn ArnLike "
        "arn:aws:budgets::678901234567:budget/orders-dev-monthly-cost",
    ),
}


@pytest.fixture(scope="module")
def prod_policies(prod_stack) -> Any:
    return policies(copy.deepcopy(prod_stack.values))


@pytest.mark.parametrize("case", sorted(CASES))
def test_change_gives_line(case: str, prod_stack, prod_policies) -> None:
    change_base, change_now, expected = CASES[case]
    base_values = copy.deepcopy(prod_stack.values)
    now_values = copy.deepcopy(prod_stack.values)
    change_base(base_values)
    change_now(now_values)
    base = prod_policies if change_base is no_change else policies(base_values)
    lines = [change.line() for change in diff.diff(base, policies(now_values))]
    assert expected in lines, "\n".join(lines)


def test_unchanged_config_gives_no_change(prod_policies) -> None:
    assert diff.diff(prod_policies, prod_policies) == []


def test_handlers_ignore_unchanged_resource(prod_policies) -> None:
    # `diff.diff` skips resources whose documents are all equal, so the
    # comparisons it skips must find nothing either.
    context = diff._Context(prod_policies, prod_policies)
    resources = diff._resources(prod_policies.entries)
    kinds = set()
    for (account_id, kind, name), entries in sorted(resources.items()):
        kinds.add(kind)
        items = diff._HANDLERS[kind](context, account_id, entries, dict(entries))
        assert items == [], f"{kind} {name} in {account_id}: {items}"
    assert kinds == set(diff._HANDLERS)


def test_drop_external_id_lines_exact(prod_stack, prod_policies) -> None:
    values = copy.deepcopy(prod_stack.values)
    drop_external_id(values)
    changes = diff.diff(prod_policies, policies(values))
    assert {change.code for change in changes} == {"EXTERNAL_ID_DROPPED"}
    assert sorted(change.account for change in changes) == [
        "orders-prod",
        "orders-staging",
        "payments-dev",
        "payments-prod",
        "payments-staging",
    ]


def test_share_layer_lines_exact(prod_stack, prod_policies) -> None:
    values = copy.deepcopy(prod_stack.values)
    share_layer_with_another_unit(values)
    lines = [change.line() for change in diff.diff(prod_policies, policies(values))]
    assert lines == [
        "+ shared-services (408765432109) layer workload-retry-v1: shared with "
        "account 234567890123 (payments-staging)",
        "+ shared-services (408765432109) layer workload-retry-v1: shared with "
        "account 345678901234 (orders-staging)",
    ]


# Documents that no configuration of this program produces, but a stored policy
# may hold: the grant model must still read them.
ROOT = "arn:aws:iam::408765432109:root"
DEPLOYER = "arn:aws:iam::408765432109:role/ci/deployer"
ORG = {"StringEquals": {"aws:PrincipalOrgID": "o-7k2m9x4q1z"}}


def trust_set(*statements: dict[str, Any]) -> PolicySet:
    document = {"Version": "2012-10-17", "Statement": list(statements)}
    return PolicySet(
        source="test",
        project=None,
        stack=None,
        organization_id="o-7k2m9x4q1z",
        management_account_id=None,
        accounts=(AccountInfo("payments-prod", "012345678901", "eu-west-1"),),
        entries=(
            PolicyEntry(
                "payments-prod", "012345678901", TRUST_POLICY, "Deployer", document
            ),
        ),
    )


def statement(principal: Any, condition: dict[str, Any] | None = None) -> dict:
    result: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": principal,
        "Action": "sts:AssumeRole",
    }
    if condition:
        result["Condition"] = condition
    return result


WITH_ARN = {**ORG, "ArnLike": {"aws:PrincipalArn": DEPLOYER}}
PREFIX = "payments-prod (012345678901) role Deployer: "

DOCUMENT_CASES = {
    "organization condition removed": (
        statement({"AWS": ROOT}, WITH_ARN),
        statement({"AWS": ROOT}, {"ArnLike": {"aws:PrincipalArn": DEPLOYER}}),
        "! " + PREFIX + "organization condition aws:PrincipalOrgID StringEquals "
        f"o-7k2m9x4q1z removed for {DEPLOYER}",
    ),
    "condition added": (
        statement({"AWS": ROOT}, WITH_ARN),
        statement(
            {"AWS": ROOT},
            {**WITH_ARN, "Bool": {"aws:MultiFactorAuthPresent": "true"}},
        ),
        "~ " + PREFIX + "condition aws:MultiFactorAuthPresent Bool true added for "
        f"{DEPLOYER}",
    ),
    "condition value changed": (
        statement({"AWS": ROOT}, WITH_ARN),
        statement(
            {"AWS": ROOT},
            {
                "StringEquals": {"aws:PrincipalOrgID": "o-aaaaaaaaaa"},
                "ArnLike": {"aws:PrincipalArn": DEPLOYER},
            },
        ),
        "~ " + PREFIX + "condition aws:PrincipalOrgID StringEquals changed from "
        f"o-7k2m9x4q1z to o-aaaaaaaaaa for {DEPLOYER}",
    ),
    "role ARN principal is the same as account with PrincipalArn": (
        statement({"AWS": DEPLOYER}, ORG),
        statement({"AWS": ROOT}, WITH_ARN),
        None,
    ),
    "bare account id is the root ARN": (
        statement({"AWS": "408765432109"}, ORG),
        statement({"AWS": ROOT}, ORG),
        None,
    ),
    "dead principal is not the role ARN": (
        statement({"AWS": "AROA3XFRBF23EXAMPLE01"}, ORG),
        statement({"AWS": DEPLOYER}, ORG),
        "- " + PREFIX + "dead principal AROA3XFRBF23EXAMPLE01 removed (the unique id "
        "of a deleted role or user; it matched no caller)",
    ),
    "role ARN replacing a dead principal is gained": (
        statement({"AWS": "AROA3XFRBF23EXAMPLE01"}, ORG),
        statement({"AWS": DEPLOYER}, ORG),
        "+ " + PREFIX + f"{DEPLOYER} may assume it (sts:AssumeRole) when "
        "aws:PrincipalOrgID StringEquals o-7k2m9x4q1z",
    ),
    "anyone may assume": (
        statement({"AWS": ROOT}, WITH_ARN),
        statement("*"),
        "+ " + PREFIX + "anyone (*) may assume it (sts:AssumeRole) with no condition",
    ),
}


@pytest.mark.parametrize("case", sorted(DOCUMENT_CASES))
def test_trust_document_change(case: str) -> None:
    before, after, expected = DOCUMENT_CASES[case]
    lines = [change.line() for change in diff.diff(trust_set(before), trust_set(after))]
    if expected is None:
        assert lines == []
    else:
        assert expected in lines, "\n".join(lines)


MFA_DENY = {
    "Effect": "Deny",
    "Principal": {"AWS": ROOT},
    "Action": "sts:AssumeRole",
    "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
}


def test_removed_trust_deny_is_a_weakening() -> None:
    before = trust_set(statement({"AWS": ROOT}, WITH_ARN), MFA_DENY)
    after = trust_set(statement({"AWS": ROOT}, WITH_ARN))
    lines = [change.line() for change in diff.diff(before, after)]
    assert lines == [
        "! " + PREFIX + f"{ROOT} (any principal the account allows) is no longer "
        "denied (sts:AssumeRole when aws:MultiFactorAuthPresent BoolIfExists false)"
    ]


def endpoint_set(*statements: dict[str, Any]) -> PolicySet:
    document = {"Version": "2012-10-17", "Statement": list(statements)}
    entry = PolicyEntry(
        "payments-prod",
        "012345678901",
        ENDPOINT_POLICY,
        "s3",
        document,
        {"type": "Gateway", "serviceName": "com.amazonaws.eu-west-1.s3"},
    )
    return dataclasses.replace(trust_set(), entries=(entry,))


ORG_ALLOW = {
    "Effect": "Allow",
    "Principal": "*",
    "Action": "*",
    "Resource": "*",
    "Condition": ORG,
}
BUCKET_DENY = {
    "Effect": "Deny",
    "Principal": "*",
    "Action": "s3:PutObject",
    "Resource": "arn:aws:s3:::audit-logs/*",
}


def test_removed_endpoint_deny_is_a_widening() -> None:
    before = endpoint_set(ORG_ALLOW, BUCKET_DENY)
    after = endpoint_set(ORG_ALLOW)
    lines = [change.line() for change in diff.diff(before, after)]
    assert lines == [
        "! payments-prod (012345678901) endpoint s3: policy widened: denies "
        "s3:PutObject on arn:aws:s3:::audit-logs/* removed"
    ]
    back = [change.line() for change in diff.diff(after, before)]
    assert back == [
        "- payments-prod (012345678901) endpoint s3: policy narrowed: denies "
        "s3:PutObject on arn:aws:s3:::audit-logs/* added"
    ]


def test_report_escapes_control_characters() -> None:
    hostile = "gone\n\x1b[2K\rNo policy changes"
    base = dataclasses.replace(
        trust_set(),
        accounts=(
            *trust_set().accounts,
            AccountInfo(hostile, "111111111111", "eu-west-1"),
        ),
    )
    result = review.DiffResult(
        "prod", "base", "now", tuple(diff.diff(base, trust_set()))
    )
    text = report.format_diff(result, "text")
    assert "\x1b" not in text
    assert "\r" not in text
    assert (
        "- gone\\u000a\\u001b[2K\\u000dNo policy changes (111111111111): account "
        "removed (offboarding)"
    ) in text.splitlines()
    markdown = report.format_diff(result, "markdown")
    assert "\x1b" not in markdown
    assert (
        "#### gone\\\\u000a\\\\u001b\\[2K\\\\u000dNo policy changes (111111111111)"
        in (markdown.splitlines())
    )


def permission_set(*statements: dict[str, Any]) -> PolicySet:
    document = {"Version": "2012-10-17", "Statement": list(statements)}
    entry = PolicyEntry(
        "payments-prod", "012345678901", PERMISSION_POLICY, "Deployer", document
    )
    return dataclasses.replace(trust_set(), entries=(entry,))


READ_TABLES = {"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "*"}
DENY_DELETE = {
    "Sid": "DenyDelete",
    "Effect": "Deny",
    "Action": "dynamodb:DeleteTable",
    "Resource": "*",
}


def test_removed_permission_deny_is_a_weakening() -> None:
    before = permission_set(READ_TABLES, DENY_DELETE)
    lines = [change.line() for change in diff.diff(before, permission_set(READ_TABLES))]
    assert lines == [
        "! " + PREFIX + "no longer denies dynamodb:DeleteTable on * "
        "(statement DenyDelete)"
    ]
    allowed = permission_set(READ_TABLES, {**DENY_DELETE, "Effect": "Allow"})
    lines = [change.line() for change in diff.diff(before, allowed)]
    assert (
        "! " + PREFIX + "statement DenyDelete: effect changed from Deny to Allow"
    ) in lines


def test_second_principal_arn_condition_is_kept() -> None:
    # Both operators must match, so dropping ArnEquals widens who may assume.
    any_role = {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::408765432109:role/*"}}
    both = {**any_role, "ArnEquals": {"aws:PrincipalArn": DEPLOYER}}
    before = trust_set(statement({"AWS": ROOT}, both))
    after = trust_set(statement({"AWS": ROOT}, any_role))
    lines = [change.line() for change in diff.diff(before, after)]
    assert lines == [
        "+ " + PREFIX + "arn:aws:iam::408765432109:role/* may assume it "
        "(sts:AssumeRole) with no condition",
        "- " + PREFIX + f"{DEPLOYER} may no longer assume it",
    ]


EXTERNAL_ID = {"StringEquals": {"sts:ExternalId": "[secret]"}}


def test_avoidable_external_id_is_a_weakening() -> None:
    partner = "arn:aws:iam::777788889999:root"
    before = trust_set(statement({"AWS": partner}, EXTERNAL_ID))
    after = trust_set(
        statement({"AWS": partner}, EXTERNAL_ID),
        {**statement({"AWS": partner}), "Sid": "NoCondition"},
    )
    lines = [change.line() for change in diff.diff(before, after)]
    assert len(lines) == 1
    assert lines[0].startswith("! " + PREFIX)
    assert "conditions changed from" in lines[0]

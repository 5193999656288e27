"""Findings: each risky construct with its exact code, severity and statement."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from governance import findings
from governance.findings import Finding, Severity
from governance.policy_set import (
    ENDPOINT_POLICY,
    LAYER_POLICY,
    PERMISSION_POLICY,
    ROLE,
    TOPIC_POLICY,
    TRUST_POLICY,
    AccountInfo,
    PolicyEntry,
    PolicySet,
)
from tests.governance.review_helpers import policies

ACCOUNT = ("payments-prod", "012345678901")
ORG = {"StringEquals": {"aws:PrincipalOrgID": "o-7k2m9x4q1z"}}
MEMBER_ROOT = "arn:aws:iam::408765432109:root"
PARTNER_ROOT = "arn:aws:iam::777788889999:root"


def document(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(**fields: Any) -> dict[str, Any]:
    return {"Sid": "Tested", "Effect": "Allow", **fields}


def settings(**fields: Any) -> dict[str, Any]:
    return {
        "name": "Tested",
        "path": "/",
        "maxSessionDuration": 3600,
        "permissionsBoundary": None,
        "managedPolicyArns": [],
        **fields,
    }


def check_one(kind: str, body: dict[str, Any], **attributes: Any) -> list[Finding]:
    policy_set = PolicySet(
        source="test",
        project=None,
        stack=None,
        organization_id="o-7k2m9x4q1z",
        management_account_id="900000000001",
        accounts=(
            AccountInfo(*ACCOUNT, "eu-west-1"),
            AccountInfo("shared-services", "408765432109", "eu-west-1"),
        ),
        entries=(PolicyEntry(*ACCOUNT, kind, "Tested", body, attributes),),
    )
    return findings.check(policy_set)


# (kind, document, attributes, expected (code, severity, statement) triples)
CASES: dict[str, tuple[str, dict[str, Any], dict[str, Any], list[tuple]]] = {
    "admin statement": (
        PERMISSION_POLICY,
        document(allow(Action="*", Resource="*")),
        {},
        [("ADMIN_LIKE_PERMISSIONS", Severity.ERROR, "Tested")],
    ),
    "every action on one resource": (
        PERMISSION_POLICY,
        document(allow(Action="*", Resource="arn:aws:s3:::bucket/*")),
        {},
        [("WILDCARD_ACTION", Severity.SECURITY_WARNING, "Tested")],
    ),
    "service wildcard": (
        PERMISSION_POLICY,
        document(allow(Action="s3:*", Resource="arn:aws:s3:::bucket/*")),
        {},
        [("WILDCARD_ACTION", Severity.WARNING, "Tested")],
    ),
    "iam wildcard": (
        PERMISSION_POLICY,
        document(allow(Action="iam:*", Resource="arn:aws:iam::012345678901:role/*")),
        {},
        [("WILDCARD_ACTION", Severity.SECURITY_WARNING, "Tested")],
    ),
    "wildcard resource": (
        PERMISSION_POLICY,
        document(allow(Action="ec2:DescribeVpcs", Resource="*")),
        {},
        [("WILDCARD_RESOURCE", Severity.WARNING, "Tested")],
    ),
    "account wildcard in ARN": (
        PERMISSION_POLICY,
        document(
            allow(
                Action="dynamodb:GetItem",
                Resource="arn:aws:dynamodb:eu-west-1:*:table/shared",
            )
        ),
        {},
        [("RESOURCE_ACCOUNT_WILDCARD", Severity.SECURITY_WARNING, "Tested")],
    ),
    "region wildcard in ARN": (
        PERMISSION_POLICY,
        document(
            allow(
                Action="dynamodb:GetItem",
                Resource="arn:aws:dynamodb:*:012345678901:table/shared",
            )
        ),
        {},
        [("RESOURCE_REGION_WILDCARD", Severity.WARNING, "Tested")],
    ),
    "NotAction in an Allow": (
        PERMISSION_POLICY,
        document(allow(NotAction="iam:*", Resource="arn:aws:s3:::bucket")),
        {},
        [("ALLOW_WITH_NOT_ACTION", Severity.SECURITY_WARNING, "Tested")],
    ),
    "narrow statement": (
        PERMISSION_POLICY,
        document(
            allow(
                Action="dynamodb:GetItem",
                Resource="arn:aws:dynamodb:eu-west-1:012345678901:table/shared-*",
            )
        ),
        {},
        [],
    ),
    "AdministratorAccess attached": (
        ROLE,
        settings(managedPolicyArns=["arn:aws:iam::aws:policy/AdministratorAccess"]),
        {},
        [("ADMIN_LIKE_PERMISSIONS", Severity.ERROR, "")],
    ),
    "PowerUserAccess without a boundary": (
        ROLE,
        settings(managedPolicyArns=["arn:aws:iam::aws:policy/PowerUserAccess"]),
        {},
        [("ADMIN_LIKE_PERMISSIONS", Severity.SECURITY_WARNING, "")],
    ),
    "PowerUserAccess under a boundary": (
        ROLE,
        settings(
            managedPolicyArns=["arn:aws:iam::aws:policy/PowerUserAccess"],
            permissionsBoundary="arn:aws:iam::012345678901:policy/Boundary",
        ),
        {},
        [("ADMIN_LIKE_PERMISSIONS", Severity.WARNING, "")],
    ),
    "customer policy named like an admin one": (
        ROLE,
        settings(
            managedPolicyArns=["arn:aws:iam::012345678901:policy/AdministratorAccess"]
        ),
        {},
        [],
    ),
    "long session": (
        ROLE,
        settings(maxSessionDuration=43200),
        {},
        [("LONG_SESSION", Severity.SUGGESTION, "")],
    ),
    "external account without external id": (
        TRUST_POLICY,
        document(
            allow(
                Principal={"AWS": PARTNER_ROOT},
                Action="sts:AssumeRole",
                Condition={"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/a"}},
            )
        ),
        {},
        [
            (
                "EXTERNAL_PRINCIPAL_WITHOUT_EXTERNAL_ID",
                Severity.SECURITY_WARNING,
                "Tested",
            )
        ],
    ),
    "external role without external id": (
        TRUST_POLICY,
        document(
            allow(
                Principal={"AWS": "arn:aws:iam::777788889999:role/auditor"},
                Action="sts:AssumeRole",
            )
        ),
        {},
        [
            (
                "EXTERNAL_PRINCIPAL_WITHOUT_EXTERNAL_ID",
                Severity.SECURITY_WARNING,
                "Tested",
            )
        ],
    ),
    "external account with external id, trusted whole": (
        TRUST_POLICY,
        document(
            allow(
                Principal={"AWS": "777788889999"},
                Action="sts:AssumeRole",
                Condition={"StringEquals": {"sts:ExternalId": "[secret]"}},
            )
        ),
        {},
        [("WHOLE_ACCOUNT_PRINCIPAL", Severity.WARNING, "Tested")],
    ),
    "member account trusted whole": (
        TRUST_POLICY,
        document(
            allow(
                Principal={"AWS": MEMBER_ROOT}, Action="sts:AssumeRole", Condition=ORG
            )
        ),
        {},
        [("WHOLE_ACCOUNT_PRINCIPAL", Severity.WARNING, "Tested")],
    ),
    "member account narrowed to a role": (
        TRUST_POLICY,
        document(
            allow(
                Principal={"AWS": MEMBER_ROOT},
                Action="sts:AssumeRole",
                Condition={
                    **ORG,
                    "ArnLike": {
                        "aws:PrincipalArn": "arn:aws:iam::408765432109:role/ci/*"
                    },
                },
            )
        ),
        {},
        [],
    ),
    "dead principal": (
        TRUST_POLICY,
        document(
            allow(Principal={"AWS": "AROA3XFRBF23EXAMPLE01"}, Action="sts:AssumeRole")
        ),
        {},
        [("DEAD_PRINCIPAL", Severity.ERROR, "Tested")],
    ),
    "anyone may assume": (
        TRUST_POLICY,
        document(allow(Principal="*", Action="sts:AssumeRole")),
        {},
        [("TRUST_ANYONE", Severity.ERROR, "Tested")],
    ),
    "trust policy near its quota": (
        TRUST_POLICY,
        document(
            allow(
                Principal={"AWS": MEMBER_ROOT},
                Action="sts:AssumeRole",
                Condition={
                    **ORG,
                    "ArnLike": {
                        "aws:PrincipalArn": [
                            f"arn:aws:iam::408765432109:role/ci/deployer-{index:03}"
                            for index in range(36)
                        ]
                    },
                },
            )
        ),
        {},
        [("TRUST_POLICY_NEAR_QUOTA", Severity.WARNING, "")],
    ),
    "trust policy over its quota": (
        TRUST_POLICY,
        document(
            allow(
                Principal={"AWS": MEMBER_ROOT},
                Action="sts:AssumeRole",
                Condition={
                    **ORG,
                    "ArnLike": {
                        "aws:PrincipalArn": [
                            f"arn:aws:iam::408765432109:role/ci/deployer-{index:03}"
                            for index in range(60)
                        ]
                    },
                },
            )
        ),
        {},
        [("TRUST_POLICY_OVER_QUOTA", Severity.ERROR, "")],
    ),
    "interface endpoint open to anyone": (
        ENDPOINT_POLICY,
        document(allow(Principal="*", Action="*", Resource="*")),
        {"type": "Interface"},
        [("ENDPOINT_POLICY_OUTSIDE_ORGANIZATION", Severity.SECURITY_WARNING, "Tested")],
    ),
    "gateway endpoint open to anyone": (
        ENDPOINT_POLICY,
        document(allow(Principal="*", Action="*", Resource="*")),
        {"type": "Gateway"},
        [("ENDPOINT_POLICY_OUTSIDE_ORGANIZATION", Severity.WARNING, "Tested")],
    ),
    "interface endpoint to another account": (
        ENDPOINT_POLICY,
        document(allow(Principal={"AWS": PARTNER_ROOT}, Action="*", Resource="*")),
        {"type": "Interface"},
        [("ENDPOINT_POLICY_OUTSIDE_ORGANIZATION", Severity.SECURITY_WARNING, "Tested")],
    ),
    "interface endpoint inside the organization": (
        ENDPOINT_POLICY,
        document(allow(Principal="*", Action="*", Resource="*", Condition=ORG)),
        {"type": "Interface"},
        [],
    ),
    "topic open to a service for anyone": (
        TOPIC_POLICY,
        document(
            allow(
                Principal={"Service": "budgets.amazonaws.com"},
                Action="SNS:Publish",
                Resource="arn:aws:sns:eu-west-1:012345678901:alarms",
            )
        ),
        {},
        [("SERVICE_PRINCIPAL_WITHOUT_SOURCE", Severity.SECURITY_WARNING, "Tested")],
    ),
    "layer shared with everyone": (
        LAYER_POLICY,
        document(
            allow(
                Principal="*",
                Action="lambda:GetLayerVersion",
                Resource="arn:aws:lambda:eu-west-1:012345678901:layer:x",
            )
        ),
        {},
        [("PUBLIC_RESOURCE_POLICY", Severity.ERROR, "Tested")],
    ),
    "layer shared outside the organization": (
        LAYER_POLICY,
        document(
            allow(
                Principal={"AWS": PARTNER_ROOT},
                Action="lambda:GetLayerVersion",
                Resource="arn:aws:lambda:eu-west-1:012345678901:layer:x",
            )
        ),
        {},
        [("SHARED_OUTSIDE_ORGANIZATION", Severity.WARNING, "Tested")],
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_finding(case: str) -> None:
    kind, body, attributes, expected = CASES[case]
    found = check_one(kind, body, **attributes)
    assert [(item.code, item.severity, item.statement) for item in found] == expected


def test_finding_line_names_place() -> None:
    found = check_one(
        TRUST_POLICY,
        document(
            allow(Principal={"AWS": "AROA3XFRBF23EXAMPLE01"}, Action="sts:AssumeRole")
        ),
    )
    assert found[0].line() == (
        "ERROR DEAD_PRINCIPAL payments-prod (012345678901) role Tested statement "
        "Tested: principal AROA3XFRBF23EXAMPLE01 is the unique id of a deleted role "
        "or user; it matches no caller, not even a new role of the same name. Trust "
        "the account with an aws:PrincipalArn condition instead"
    )


def test_prod_findings(prod_stack) -> None:
    found = findings.check(policies(copy.deepcopy(prod_stack.values)))
    assert {(item.code, item.severity, item.resource) for item in found} == {
        ("ADMIN_LIKE_PERMISSIONS", Severity.WARNING, "role WorkloadDeployer")
    }
    assert sorted(item.account for item in found) == [
        "orders-prod",
        "orders-staging",
        "payments-dev",
        "payments-prod",
        "payments-staging",
    ]


def test_findings_at_or_above() -> None:
    found = check_one(
        ROLE,
        settings(
            maxSessionDuration=43200,
            managedPolicyArns=["arn:aws:iam::aws:policy/AdministratorAccess"],
        ),
    )
    assert [item.severity for item in found] == [Severity.ERROR, Severity.SUGGESTION]
    assert findings.at_or_above(found, Severity.WARNING) == found[:1]

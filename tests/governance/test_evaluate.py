"""The trust policy evaluator: decisions, unsupported constructs and summaries."""

from __future__ import annotations

from typing import Any

import pytest

from governance import policy
from governance.evaluate import (
    Decision,
    Request,
    UnsupportedConstructError,
    evaluate,
    summarise,
)
from governance.policy import Secret

ORG = "o-a1b2c3d4e5"
PATH = "o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/"
CALLER = "arn:aws:iam::111111111111:role/ci/deployer"

TRUST = policy.policy(
    {
        "Sid": "OrgAccountRoles",
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
        "Action": ["sts:AssumeRole", "sts:TagSession"],
        "Condition": {
            "ArnLike": {"aws:PrincipalArn": "arn:aws:iam::111111111111:role/ci/*"},
            "StringEquals": {
                "aws:PrincipalOrgID": ORG,
                "sts:ExternalId": Secret("xid-1"),
            },
            "ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": f"{PATH}*"},
            "Bool": {"aws:MultiFactorAuthPresent": "true"},
        },
    }
)

GOOD = Request(
    principal_arn=CALLER,
    organization_id=ORG,
    org_paths=(PATH + "ou-ab12-22222222/",),
    external_id="xid-1",
    mfa_present=True,
)

DECISIONS: list[tuple[str, dict[str, Any], Decision]] = [
    ("all conditions met", {}, Decision.ALLOW),
    ("tag session allowed", {"action": "sts:TagSession"}, Decision.ALLOW),
    (
        "source identity not allowed",
        {"action": "sts:SetSourceIdentity"},
        Decision.IMPLICIT_DENY,
    ),
    ("wrong external id", {"external_id": "xid-2"}, Decision.IMPLICIT_DENY),
    ("missing external id", {"external_id": None}, Decision.IMPLICIT_DENY),
    ("no mfa", {"mfa_present": False}, Decision.IMPLICIT_DENY),
    ("other organization", {"organization_id": "o-zzzzzzzzzz"}, Decision.IMPLICIT_DENY),
    (
        "no organization",
        {"organization_id": None, "org_paths": ()},
        Decision.IMPLICIT_DENY,
    ),
    (
        "path outside unit",
        {"org_paths": ("o-a1b2c3d4e5/r-ab12/ou-ab12-99999999/",)},
        Decision.IMPLICIT_DENY,
    ),
    (
        "role outside path",
        {"principal_arn": "arn:aws:iam::111111111111:role/deployer"},
        Decision.IMPLICIT_DENY,
    ),
    (
        "other account",
        {"principal_arn": "arn:aws:iam::222222222222:role/ci/deployer"},
        Decision.IMPLICIT_DENY,
    ),
    (
        "nested path matches",
        {"principal_arn": "arn:aws:iam::111111111111:role/ci/a/b"},
        Decision.ALLOW,
    ),
    (
        "case of role differs",
        {"principal_arn": "arn:aws:iam::111111111111:role/CI/deployer"},
        Decision.IMPLICIT_DENY,
    ),
]


@pytest.mark.parametrize(
    ("change", "expected"),
    [pytest.param(change, expected, id=name) for name, change, expected in DECISIONS],
)
def test_decision(change: dict[str, Any], expected: Decision) -> None:
    request = Request(**{**GOOD.__dict__, **change})
    assert evaluate(TRUST, request) is expected


def test_explicit_deny_wins() -> None:
    document = policy.policy(
        TRUST["Statement"][0],
        {
            "Sid": "DenyDeployer",
            "Effect": "Deny",
            "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
            "Action": "sts:*",
            "Condition": {"StringLike": {"aws:PrincipalArn": "*deployer"}},
        },
    )
    assert evaluate(document, GOOD) is Decision.EXPLICIT_DENY


def test_role_arn_principal_exact() -> None:
    document = policy.policy(
        {"Effect": "Allow", "Principal": {"AWS": CALLER}, "Action": "sts:AssumeRole"}
    )
    assert evaluate(document, GOOD) is Decision.ALLOW
    other = Request(principal_arn="arn:aws:iam::111111111111:role/ci/other")
    assert evaluate(document, other) is Decision.IMPLICIT_DENY


def test_dead_unique_id_matches_nobody() -> None:
    document = policy.policy(
        {
            "Effect": "Allow",
            "Principal": {"AWS": "AROAEXAMPLEUNIQUEID12"},
            "Action": "sts:AssumeRole",
        }
    )
    assert evaluate(document, GOOD) is Decision.IMPLICIT_DENY


def test_negated_operator_on_missing_key() -> None:
    document = policy.policy(
        {
            "Effect": "Allow",
            "Principal": {"AWS": "111111111111"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringNotEquals": {"sts:ExternalId": "blocked"}},
        }
    )
    assert evaluate(document, Request(principal_arn=CALLER)) is Decision.ALLOW


def test_if_exists_on_missing_key() -> None:
    document = policy.policy(
        {
            "Effect": "Allow",
            "Principal": {"AWS": "111111111111"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEqualsIfExists": {"sts:ExternalId": "xid"}},
        }
    )
    assert evaluate(document, Request(principal_arn=CALLER)) is Decision.ALLOW
    wrong = Request(principal_arn=CALLER, external_id="other")
    assert evaluate(document, wrong) is Decision.IMPLICIT_DENY


UNSUPPORTED: list[tuple[str, dict[str, Any], str]] = [
    (
        "not principal",
        {
            "Effect": "Allow",
            "NotPrincipal": {"AWS": "111111111111"},
            "Action": "sts:AssumeRole",
        },
        "NotPrincipal",
    ),
    (
        "numeric operator",
        {
            "Effect": "Allow",
            "Principal": {"AWS": "111111111111"},
            "Action": "sts:AssumeRole",
            "Condition": {"NumericLessThan": {"aws:MultiFactorAuthAge": "300"}},
        },
        "condition operator NumericLessThan",
    ),
    (
        "policy variable",
        {
            "Effect": "Allow",
            "Principal": {"AWS": "111111111111"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringLike": {"aws:PrincipalArn": "${aws:username}"}},
        },
        "policy variable",
    ),
    (
        "single-valued operator on org paths",
        {
            "Effect": "Allow",
            "Principal": {"AWS": "111111111111"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringLike": {"aws:PrincipalOrgPaths": f"{PATH}*"}},
        },
        "single-valued operator StringLike on multivalued key aws:PrincipalOrgPaths",
    ),
]


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        pytest.param(statement, message, id=name)
        for name, statement, message in UNSUPPORTED
    ],
)
def test_unsupported_construct(statement: dict[str, Any], message: str) -> None:
    with pytest.raises(UnsupportedConstructError, match=message):
        evaluate(policy.policy(statement), GOOD)


def test_old_policy_version_unsupported() -> None:
    document = {"Version": "2008-10-17", "Statement": TRUST["Statement"]}
    with pytest.raises(UnsupportedConstructError, match="policy version"):
        evaluate(document, GOOD)


def test_summary_masks_secret() -> None:
    (grant,) = summarise(TRUST)
    assert grant.principals == ("arn:aws:iam::111111111111:root",)
    assert grant.actions == ("sts:AssumeRole", "sts:TagSession")
    assert grant.conditions == (
        "aws:PrincipalArn ArnLike arn:aws:iam::111111111111:role/ci/*",
        "aws:MultiFactorAuthPresent Bool true",
        f"aws:PrincipalOrgPaths ForAnyValue:StringLike {PATH}*",
        f"aws:PrincipalOrgID StringEquals {ORG}",
        "sts:ExternalId StringEquals [secret]",
    )
    assert "xid-1" not in grant.describe()

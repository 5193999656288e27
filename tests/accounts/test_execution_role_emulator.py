"""Execution roles on moto, and their permission policies through parliament.

moto's IAM validates trust and permission documents the way IAM's API does for
the errors it models (MalformedPolicyDocument); parliament, written outside this
project, lints permission policies. Neither shares code with the policy builder.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import boto3
import parliament
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from governance import config, policy
from governance.plan import OrganizationPlan, plan_organization
from tests.conftest import PROD_SECRET_KEYS

pytestmark = pytest.mark.emulator


@pytest.fixture(scope="module")
def prod_plan(prod_stack: Any) -> OrganizationPlan:
    organization = config.load(prod_stack.values, PROD_SECRET_KEYS)
    return plan_organization(organization, "org-governance", "prod")


@pytest.fixture
def iam_in_account() -> Iterator[Any]:
    """Return a function that opens moto's IAM inside a given account."""
    saved = {key: os.environ.get(key) for key in ("MOTO_ACCOUNT_ID",)}
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():

        def open_account(account_id: str) -> Any:
            os.environ["MOTO_ACCOUNT_ID"] = account_id
            return boto3.client("iam", region_name="us-east-1")

        yield open_account
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def test_roles_created_on_moto(
    prod_plan: OrganizationPlan, iam_in_account: Any
) -> None:
    created = 0
    for account in prod_plan.accounts:
        iam = iam_in_account(account.account_id)
        for role in account.execution_roles:
            trust = policy.to_json(role.trust_policy, reveal=True)
            iam.create_role(
                RoleName=role.name,
                Path=role.path,
                AssumeRolePolicyDocument=trust,
                MaxSessionDuration=role.max_session_duration,
            )
            if role.inline_policy is not None:
                iam.put_role_policy(
                    RoleName=role.name,
                    PolicyName=f"{role.name}-inline",
                    PolicyDocument=policy.to_json(role.inline_policy, reveal=True),
                )
            stored = iam.get_role(RoleName=role.name)["Role"]
            assert stored["Arn"] == (
                f"arn:aws:iam::{account.account_id}:role{role.path}{role.name}"
            )
            stored_trust = stored["AssumeRolePolicyDocument"]
            if isinstance(stored_trust, str):
                stored_trust = policy.parse(stored_trust)
            assert policy.equivalent(stored_trust, json.loads(trust))
            if role.inline_policy is not None:
                document = iam.get_role_policy(
                    RoleName=role.name, PolicyName=f"{role.name}-inline"
                )["PolicyDocument"]
                assert policy.equivalent(
                    document, json.loads(policy.to_json(role.inline_policy))
                )
            created += 1
    assert created == 20


def test_moto_rejects_malformed_policy(iam_in_account: Any) -> None:
    # The check above can fail: moto rejects a document IAM would reject.
    iam = iam_in_account("111122223333")
    iam.create_role(
        RoleName="probe",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )
    with pytest.raises(ClientError, match="MalformedPolicyDocument"):
        iam.put_role_policy(
            RoleName="probe",
            PolicyName="bad",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "s3"}],
                }
            ),
        )


def test_parliament_finds_no_error(prod_plan: OrganizationPlan) -> None:
    checked = 0
    for account in prod_plan.accounts:
        for role in account.execution_roles:
            if role.inline_policy is None:
                continue
            text = policy.to_json(role.inline_policy, reveal=True)
            analysed = parliament.analyze_policy_string(text)
            findings = [
                (finding.issue, finding.detail) for finding in analysed.findings
            ]
            assert findings == [], f"{role.resource_name}: {findings}"
            checked += 1
    assert checked == 5


def test_parliament_catches_a_bad_policy() -> None:
    # The check above can fail: parliament reports an unknown action.
    text = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "s3:GetObjects", "Resource": "*"}
            ],
        }
    )
    assert parliament.analyze_policy_string(text).findings

"""The runtime helper on moto: calls go out with the assumed role's credentials."""

from __future__ import annotations

import datetime
import json
import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from moto import mock_aws

from governance.sessions import (
    AssumeRoleDeniedError,
    execution_role_session,
    session_name_for,
)

pytestmark = pytest.mark.emulator

TARGET = "222233334444"
# moto's default account, where the caller's own credentials live.
CALLER = "123456789012"


@pytest.fixture
def aws() -> Iterator[boto3.Session]:
    """Start moto with a role in the target account; return the caller's session."""
    keys = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "MOTO_ACCOUNT_ID")
    # The caller stays in moto's default account; the role lives in TARGET.
    saved = {key: os.environ.get(key) for key in keys}
    os.environ["AWS_ACCESS_KEY_ID"] = "testing"
    os.environ["AWS_SECRET_ACCESS_KEY"] = "testing"
    with mock_aws():
        os.environ["MOTO_ACCOUNT_ID"] = TARGET
        boto3.client("iam", region_name="eu-west-1").create_role(
            RoleName="CrossAccountLambdaRole",
            Path="/org-governance/",
            AssumeRolePolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"AWS": f"arn:aws:iam::{CALLER}:root"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
        )
        del os.environ["MOTO_ACCOUNT_ID"]
        yield boto3.Session(region_name="eu-west-1")
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def record_assume_role(base: boto3.Session) -> list[dict[str, Any]]:
    """Record the parameters of every AssumeRole call the base session makes."""
    calls: list[dict[str, Any]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        calls.append(dict(params))

    base.events.register("provide-client-params.sts.AssumeRole", record)
    return calls


def test_calls_use_assumed_credentials(aws: boto3.Session) -> None:
    session = execution_role_session(
        TARGET,
        "CrossAccountLambdaRole",
        path="/org-governance/",
        external_id="xid-0123",
        session_name="payments-exec",
        base_session=aws,
    )
    identity = session.client("sts").get_caller_identity()
    assert identity["Account"] == TARGET
    assert identity["Arn"] == (
        f"arn:aws:sts::{TARGET}:assumed-role/CrossAccountLambdaRole/payments-exec"
    )
    session.client("s3").create_bucket(
        Bucket="shared-bucket",
        CreateBucketConfiguration={"LocationConstraint": "eu-west-1"},
    )
    in_target = session.client("s3").list_buckets()["Buckets"]
    assert [bucket["Name"] for bucket in in_target] == ["shared-bucket"]
    in_caller = aws.client("s3").list_buckets()["Buckets"]
    assert in_caller == []


def test_external_id_and_session_name_sent(aws: boto3.Session) -> None:
    calls = record_assume_role(aws)
    session = execution_role_session(
        TARGET,
        "CrossAccountLambdaRole",
        path="/org-governance/",
        external_id="xid-0123",
        base_session=aws,
    )
    session.client("sts").get_caller_identity()
    assert calls == [
        {
            "RoleArn": f"arn:aws:iam::{TARGET}:role/org-governance/"
            "CrossAccountLambdaRole",
            "RoleSessionName": "moto",
            "DurationSeconds": 3600,
            "ExternalId": "xid-0123",
        }
    ]


def test_credentials_refresh_before_expiry(aws: boto3.Session) -> None:
    calls = record_assume_role(aws)
    session = execution_role_session(
        TARGET,
        "CrossAccountLambdaRole",
        path="/org-governance/",
        session_name="refresher",
        base_session=aws,
    )
    sts = session.client("sts")
    sts.get_caller_identity()
    sts.get_caller_identity()
    assert len(calls) == 1
    credentials = session.get_credentials()
    first_key = credentials.get_frozen_credentials().access_key
    # Five minutes before expiry is inside botocore's mandatory refresh window.
    credentials._expiry_time = datetime.datetime.now(datetime.UTC) + datetime.timedelta(
        minutes=5
    )
    sts.get_caller_identity()
    assert len(calls) == 2
    assert credentials.get_frozen_credentials().access_key != first_key


def test_access_denied_is_explained(aws: boto3.Session) -> None:
    def deny(**_: Any) -> tuple[Any, dict[str, Any]]:
        error = {
            "Code": "AccessDenied",
            "Message": "not authorized to perform AssumeRole",
        }
        response = AWSResponse("https://sts.amazonaws.com/", 403, {}, None)
        return response, {"Error": error, "ResponseMetadata": {"HTTPStatusCode": 403}}

    aws.events.register("before-call.sts.AssumeRole", deny)
    session = execution_role_session(
        TARGET, "CrossAccountLambdaRole", session_name="denied", base_session=aws
    )
    with pytest.raises(AssumeRoleDeniedError) as raised:
        session.client("sts").get_caller_identity()
    assert raised.value.role_arn == f"arn:aws:iam::{TARGET}:role/CrossAccountLambdaRole"
    assert str(raised.value).startswith(
        f"access denied assuming arn:aws:iam::{TARGET}:role/CrossAccountLambdaRole "
        "(session denied): not authorized to perform AssumeRole."
    )


def test_session_name_from_caller() -> None:
    arn = "arn:aws:sts::111122223333:assumed-role/payments-exec/fn-name"
    assert session_name_for(arn) == "payments-exec.fn-name"
    assert session_name_for(f"arn:aws:iam::{CALLER}:user/alice") == "alice"


def test_invalid_account_rejected() -> None:
    with pytest.raises(ValueError, match="invalid account id '1234': use 12 digits"):
        execution_role_session("1234", "Role")

"""Publish the generated layers and permissions on moto and read the policy back.

The arguments are the inputs the real program registers under the mock engine, so
what is published here is what `pulumi up` would send through the provider.

NOTE: moto stores a layer permission as the request's fields: AWS stores the
account principal as {"AWS": "arn:aws:iam::ID:root"} and the organization as a
StringEquals aws:PrincipalOrgID condition, and rejects a repeated statement id,
which moto accepts. The arguments are therefore also checked against the
PublishLayerVersion and AddLayerVersionPermission rules of botocore's Lambda model.
"""

from __future__ import annotations

import json
import re
from typing import Any

import boto3
import botocore.session
import pytest
from moto import mock_aws

from governance.preview import PreviewResult, RecordedResource, run_program
from governance.stack_config import StackConfig
from tests.conftest import PROJECT_DIR

pytestmark = pytest.mark.emulator

LAYER_TYPE = "aws:lambda/layerVersion:LayerVersion"
PERMISSION_TYPE = "aws:lambda/layerVersionPermission:LayerVersionPermission"


@pytest.fixture(scope="module")
def prod_preview(prod_stack: StackConfig) -> PreviewResult:
    return run_program(PROJECT_DIR, prod_stack)


def publish_arguments(resource: RecordedResource) -> dict[str, Any]:
    inputs = resource.inputs
    return {
        "LayerName": inputs["layerName"],
        "Description": inputs["description"],
        "Content": {
            "ZipFile": (PROJECT_DIR / inputs["code"]["archive"]["path"]).read_bytes()
        },
        "CompatibleRuntimes": inputs["compatibleRuntimes"],
        "CompatibleArchitectures": inputs["compatibleArchitectures"],
        "LicenseInfo": inputs["licenseInfo"],
    }


def permission_arguments(resource: RecordedResource) -> dict[str, Any]:
    inputs = resource.inputs
    arguments = {
        "StatementId": inputs["statementId"],
        "Action": inputs["action"],
        "Principal": inputs["principal"],
    }
    if "organizationId" in inputs:
        arguments["OrganizationId"] = inputs["organizationId"]
    return arguments


def layers_with_permissions(
    result: PreviewResult,
) -> list[tuple[RecordedResource, list[RecordedResource]]]:
    pairs = []
    for layer in result.resources:
        if layer.type != LAYER_TYPE:
            continue
        permissions = [
            resource
            for resource in result.resources
            if resource.type == PERMISSION_TYPE and resource.parent == layer.parent
        ]
        pairs.append((layer, permissions))
    return pairs


def check_against_model(operation: str, arguments: dict[str, Any]) -> None:
    """Check each argument against the operation's length and pattern rules."""
    model = botocore.session.get_session().get_service_model("lambda")
    members = model.operation_model(operation).input_shape.members
    for name, value in arguments.items():
        metadata = members[name].metadata
        if isinstance(value, str):
            assert len(value) >= metadata.get("min", 0), name
            assert len(value) <= metadata.get("max", len(value)), name
            if "pattern" in metadata:
                assert re.fullmatch(metadata["pattern"], value), (name, value)
        if isinstance(value, list):
            assert len(value) <= metadata.get("max", len(value)), name
            enum = members[name].member.enum
            assert set(value) <= set(enum), (name, value)


def test_arguments_follow_lambda_model(prod_preview: PreviewResult) -> None:
    for layer, permissions in layers_with_permissions(prod_preview):
        arguments = publish_arguments(layer)
        del arguments["Content"]
        check_against_model("PublishLayerVersion", arguments)
        statement_ids = [
            permission_arguments(item)["StatementId"] for item in permissions
        ]
        assert len(statement_ids) == len(set(statement_ids))
        for permission in permissions:
            check_against_model(
                "AddLayerVersionPermission", permission_arguments(permission)
            )


@mock_aws
def test_publish_and_read_policy(prod_preview: PreviewResult) -> None:
    client = boto3.client("lambda", region_name="eu-west-1")
    for layer, permissions in layers_with_permissions(prod_preview):
        published = client.publish_layer_version(**publish_arguments(layer))
        assert published["Content"]["CodeSha256"] == layer.inputs["sourceCodeHash"]
        assert published["Description"] == layer.inputs["description"]
        for permission in permissions:
            client.add_layer_version_permission(
                LayerName=published["LayerArn"],
                VersionNumber=published["Version"],
                **permission_arguments(permission),
            )
        policy = json.loads(
            client.get_layer_version_policy(
                LayerName=published["LayerArn"], VersionNumber=published["Version"]
            )["Policy"]
        )
        statements = {statement["Sid"]: statement for statement in policy["Statement"]}
        expected = {
            permission.inputs["statementId"]: permission for permission in permissions
        }
        assert set(statements) == set(expected)
        for statement_id, statement in statements.items():
            inputs = expected[statement_id].inputs
            assert statement["Effect"] == "Allow"
            assert statement["Action"] == "lambda:GetLayerVersion"
            assert statement["Resource"] == published["LayerVersionArn"]
            assert statement["Principal"] == inputs["principal"]
            assert statement.get("OrganizationId") == inputs.get("organizationId")


@mock_aws
def test_new_content_keeps_old_version(prod_preview: PreviewResult) -> None:
    # What skip_destroy relies on: publishing again adds a version, the old one and
    # its policy stay readable.
    client = boto3.client("lambda", region_name="eu-west-1")
    layer, permissions = layers_with_permissions(prod_preview)[0]
    first = client.publish_layer_version(**publish_arguments(layer))
    client.add_layer_version_permission(
        LayerName=first["LayerArn"],
        VersionNumber=first["Version"],
        **permission_arguments(permissions[0]),
    )
    arguments = publish_arguments(layer)
    arguments["Description"] = "1.0.1: next"
    second = client.publish_layer_version(**arguments)
    assert second["Version"] == first["Version"] + 1
    old = client.get_layer_version(
        LayerName=first["LayerArn"], VersionNumber=first["Version"]
    )
    assert old["Description"] == layer.inputs["description"]
    policy = client.get_layer_version_policy(
        LayerName=first["LayerArn"], VersionNumber=first["Version"]
    )
    assert permissions[0].inputs["statementId"] in policy["Policy"]

"""Shared layers in the real program, under the Pulumi SDK's mock engine."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest

from governance.preview import PreviewResult, RecordedResource, run_program
from governance.stack_config import StackConfig
from tests.conftest import PROJECT_DIR

LAYER_TYPE = "aws:lambda/layerVersion:LayerVersion"
PERMISSION_TYPE = "aws:lambda/layerVersionPermission:LayerVersionPermission"
COMPONENT_TYPE = "org-governance:layers:SharedLayer"
SHARED_SERVICES = "408765432109"


@pytest.fixture(scope="module")
def prod_preview(prod_stack: StackConfig) -> PreviewResult:
    return run_program(PROJECT_DIR, prod_stack)


def of_type(result: PreviewResult, type_token: str) -> dict[str, RecordedResource]:
    return {
        resource.name: resource
        for resource in result.resources
        if resource.type == type_token
    }


def test_each_layer_once_in_owner_account(prod_preview: PreviewResult) -> None:
    layers = of_type(prod_preview, LAYER_TYPE)
    assert sorted(layers) == ["org-monitoring-version", "workload-retry-version"]
    for resource in layers.values():
        assert resource.account == SHARED_SERVICES
        assert resource.provider_name == "shared-services"


def test_layer_version_inputs(prod_preview: PreviewResult) -> None:
    inputs = of_type(prod_preview, LAYER_TYPE)["org-monitoring-version"].inputs
    lock = json.loads((PROJECT_DIR / "layers.lock.json").read_text())
    assert inputs["layerName"] == "org-monitoring-v1"
    assert inputs["skipDestroy"] is True
    assert inputs["description"] == (
        "1.0.0: Structured JSON logs and a cost metric per invocation (EMF)"
    )
    assert inputs["compatibleRuntimes"] == [
        "python3.11",
        "python3.12",
        "python3.13",
        "python3.14",
    ]
    assert inputs["compatibleArchitectures"] == ["arm64", "x86_64"]
    assert inputs["licenseInfo"] == "MIT"
    assert inputs["code"] == {
        "archive": {"path": "build/layers/org-monitoring-1.0.0.zip"}
    }
    assert (
        inputs["sourceCodeHash"]
        == (lock["layers"]["org-monitoring"]["1.0.0"]["codeSha256"])
    )


def test_zip_written_where_code_points(prod_preview: PreviewResult) -> None:
    for resource in of_type(prod_preview, LAYER_TYPE).values():
        data = (PROJECT_DIR / resource.inputs["code"]["archive"]["path"]).read_bytes()
        digest = base64.b64encode(hashlib.sha256(data).digest()).decode()
        assert digest == resource.inputs["sourceCodeHash"]


def test_one_permission_per_principal(prod_preview: PreviewResult) -> None:
    permissions = of_type(prod_preview, PERMISSION_TYPE)
    principals = {
        name: (
            resource.inputs["principal"],
            resource.inputs.get("organizationId"),
        )
        for name, resource in permissions.items()
    }
    assert principals == {
        "org-monitoring-organization-o-7k2m9x4q1z": ("*", "o-7k2m9x4q1z"),
        "workload-retry-account-012345678901": ("012345678901", None),
        "workload-retry-account-123456789012": ("123456789012", None),
    }


def test_permission_inputs(prod_preview: PreviewResult) -> None:
    permissions = of_type(prod_preview, PERMISSION_TYPE)
    for name, resource in permissions.items():
        inputs = resource.inputs
        layer = name.split("-account-")[0].split("-organization-")[0]
        assert resource.account == SHARED_SERVICES
        assert inputs["action"] == "lambda:GetLayerVersion"
        assert inputs["skipDestroy"] is True
        assert inputs["versionNumber"] == 1
        assert inputs["statementId"] == name.removeprefix(f"{layer}-")
        assert inputs["layerName"] == (
            f"arn:aws:lambda:eu-west-1:{SHARED_SERVICES}:layer:{layer}-v1"
        )


def test_children_under_component(prod_preview: PreviewResult) -> None:
    components = of_type(prod_preview, COMPONENT_TYPE)
    baselines = of_type(prod_preview, "org-governance:accounts:AccountBaseline")
    assert sorted(components) == ["org-monitoring", "workload-retry"]
    for name, component in components.items():
        assert component.parent == baselines["shared-services"].urn
        children = [
            resource
            for resource in prod_preview.resources
            if resource.parent == component.urn
        ]
        assert children
        assert all(child.name.startswith(f"{name}-") for child in children)


def test_layers_stack_output(prod_preview: PreviewResult) -> None:
    assert prod_preview.outputs["layers"] == {
        "org-monitoring": {
            "arn": f"arn:aws:lambda:eu-west-1:{SHARED_SERVICES}:layer:"
            "org-monitoring-v1:1",
            "layerArn": f"arn:aws:lambda:eu-west-1:{SHARED_SERVICES}:layer:"
            "org-monitoring-v1",
            "layerName": "org-monitoring-v1",
            "region": "eu-west-1",
            "semanticVersion": "1.0.0",
            "version": 1,
        },
        "workload-retry": {
            "arn": f"arn:aws:lambda:eu-west-1:{SHARED_SERVICES}:layer:"
            "workload-retry-v1:1",
            "layerArn": f"arn:aws:lambda:eu-west-1:{SHARED_SERVICES}:layer:"
            "workload-retry-v1",
            "layerName": "workload-retry-v1",
            "region": "eu-west-1",
            "semanticVersion": "1.0.0",
            "version": 1,
        },
    }


def test_owner_account_output(prod_preview: PreviewResult) -> None:
    accounts = prod_preview.outputs["accounts"]
    assert accounts["shared-services"]["layers"] == prod_preview.outputs["layers"]
    assert "layers" not in accounts["payments-prod"]


def test_lock_warning_logged(
    prod_stack: StackConfig, caplog: pytest.LogCaptureFixture
) -> None:
    values = json.loads(json.dumps(prod_stack.values))
    values["layers"][1]["version"] = "1.1.0"
    stack = StackConfig(
        project=prod_stack.project,
        stack=prod_stack.stack,
        values=values,
        other=prod_stack.other,
        secret_keys=prod_stack.secret_keys,
    )
    result = run_program(PROJECT_DIR, stack)
    # The program wrote the zip of version 1.1.0, which no stack file names.
    (PROJECT_DIR / "build/layers/workload-retry-1.1.0.zip").unlink()
    assert result.exit_code == 0
    assert any(
        record.levelname == "WARNING"
        and record.getMessage().startswith(
            "layers[1].version: version changed but the content did not"
        )
        for record in caplog.records
    )

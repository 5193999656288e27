"""The sample organization as one stack (prod) and as two shards: the same resources.

The two previews together must register exactly the resources of the prod
preview, each once, with the same inputs. Only values derived from the stack's
name differ, and each is replaced explicitly before comparing: the provider's
`org-governance:stack` tag and STS session name, and the names of the cost
anomaly monitor and subscription.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from governance.plan import MANAGED_BY_TAG
from governance.preview import PreviewResult, RecordedResource, run_program
from governance.stack_config import read_stack
from tests.conftest import PROJECT_DIR

SHARDS = ("prod-core", "prod-workloads")
PROVIDER = "pulumi:providers:aws"
ANOMALY_TYPES = (
    "aws:costexplorer/anomalyMonitor:AnomalyMonitor",
    "aws:costexplorer/anomalySubscription:AnomalySubscription",
)


@pytest.fixture(scope="module")
def previews() -> dict[str, PreviewResult]:
    return {
        stack: run_program(PROJECT_DIR, read_stack(PROJECT_DIR, stack))
        for stack in ("prod", *SHARDS)
    }


def without_stack_name(resource: RecordedResource, stack: str) -> dict[str, Any]:
    """Return a resource's inputs with the values derived from the stack replaced."""
    inputs = copy.deepcopy(resource.inputs)
    if resource.type == PROVIDER:
        tags = inputs["defaultTags"]["tags"]
        assert tags[MANAGED_BY_TAG] == f"org-governance/{stack}"
        tags[MANAGED_BY_TAG] = "org-governance/STACK"
        for role in inputs["assumeRoles"]:
            assert role["sessionName"] == f"org-governance-{stack}"
            role["sessionName"] = "org-governance-STACK"
    if resource.type in ANOMALY_TYPES:
        assert inputs["name"].startswith(f"org-governance-{stack}-")
        inputs["name"] = inputs["name"].replace(f"-{stack}-", "-STACK-", 1)
    text = json.dumps(inputs)
    assert f"org-governance/{stack}" not in text
    assert f"org-governance-{stack}" not in text
    return inputs


def resources_by_key(
    result: PreviewResult,
) -> dict[tuple[str, str, str | None], dict[str, Any]]:
    found = {}
    for resource in result.resources:
        key = (resource.type, resource.name, resource.account)
        assert key not in found, f"{key} registered twice in {result.stack}"
        found[key] = without_stack_name(resource, result.stack)
    return found


def test_shards_preview_without_errors(previews) -> None:
    for stack in SHARDS:
        assert previews[stack].exit_code == 0, previews[stack].stderr
        assert previews[stack].resources


def test_shards_register_prod_resources_once(previews) -> None:
    prod = resources_by_key(previews["prod"])
    core = resources_by_key(previews["prod-core"])
    workloads = resources_by_key(previews["prod-workloads"])
    assert core.keys().isdisjoint(workloads.keys())
    assert core.keys() | workloads.keys() == prod.keys()


def test_shards_register_prod_inputs(previews) -> None:
    prod = resources_by_key(previews["prod"])
    for stack in SHARDS:
        for key, inputs in resources_by_key(previews[stack]).items():
            assert inputs == prod[key], f"{key} in {stack}"


def test_management_provider_in_core_only(previews) -> None:
    def management(stack: str) -> list[str]:
        return [
            resource.name
            for resource in previews[stack].resources
            if resource.type == PROVIDER and resource.name == "management"
        ]

    assert management("prod-core") == ["management"]
    assert management("prod-workloads") == []


def test_shard_outputs_add_up_to_prod(previews) -> None:
    prod = previews["prod"].outputs
    core = previews["prod-core"].outputs
    workloads = previews["prod-workloads"].outputs
    assert {**core["accounts"], **workloads["accounts"]} == prod["accounts"]
    assert core["layers"] == prod["layers"]
    assert workloads["layers"] == {}
    assert core["costAnomalyDetection"] == prod["costAnomalyDetection"]
    assert "costAnomalyDetection" not in workloads

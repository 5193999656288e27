"""The real `__main__.py` under the Pulumi SDK's mock engine, on the prod stack."""

from __future__ import annotations

import copy
import dataclasses
import shutil
from pathlib import Path

import pytest

from governance.preview import PreviewResult, run_program
from governance.stack_config import StackConfig
from tests.conftest import PROJECT_DIR


@pytest.fixture(scope="module")
def prod_preview(prod_stack: StackConfig) -> PreviewResult:
    return run_program(PROJECT_DIR, prod_stack)


def providers(result: PreviewResult) -> dict[str, dict]:
    return {
        resource.name: resource.inputs
        for resource in result.resources
        if resource.type == "pulumi:providers:aws"
    }


def test_one_provider_per_account(prod_preview, prod_stack) -> None:
    accounts = prod_stack.values["accounts"]
    found = providers(prod_preview)
    assert set(found) == {account["name"] for account in accounts} | {"management"}
    for account in accounts:
        inputs = found[account["name"]]
        role = f"arn:aws:iam::{account['id']}:role/OrganizationAccountAccessRole"
        assert inputs["assumeRoles"] == [
            {"roleArn": role, "sessionName": "org-governance-prod"}
        ]
        assert inputs["allowedAccountIds"] == [account["id"]]
        assert inputs["region"] == account.get("region", "eu-west-1")


def test_provider_default_tags(prod_preview) -> None:
    tags = providers(prod_preview)["payments-prod"]["defaultTags"]["tags"]
    assert tags == {
        "Application": "payments",
        "CostCenter": "platform",
        "Owner": "platform-team",
        "org-governance:stack": "org-governance/prod",
    }


def test_management_provider(prod_preview) -> None:
    inputs = providers(prod_preview)["management"]
    assert inputs["allowedAccountIds"] == ["900000000001"]
    assert inputs["assumeRoles"][0]["roleArn"] == (
        "arn:aws:iam::900000000001:role/OrgGovernanceDeploymentRole"
    )


def test_baseline_per_account_under_provider(prod_preview, prod_stack) -> None:
    baselines = {
        resource.name: resource
        for resource in prod_preview.resources
        if resource.type == "org-governance:accounts:AccountBaseline"
    }
    for account in prod_stack.values["accounts"]:
        baseline = baselines[account["name"]]
        assert baseline.account == account["id"]
        assert baseline.provider_name == account["name"]


def test_stack_outputs_per_account(prod_preview) -> None:
    outputs = prod_preview.outputs
    assert outputs["organizationId"] == "o-7k2m9x4q1z"
    assert outputs["accounts"]["sandbox"] == {
        "id": "567890123456",
        "name": "sandbox",
        "organizationalUnit": "sandbox",
        "region": "us-east-1",
        "executionRoles": {
            "PartnerAuditRole": "arn:aws:iam::567890123456:role/PartnerAuditRole"
        },
        "budget": {
            "name": "sandbox-monthly-cost",
            "serviceBudgets": {},
            "topicArn": "arn:aws:sns:us-east-1:567890123456:sandbox-budget-alarms",
        },
    }


def test_invalid_config_registers_nothing(prod_stack: StackConfig) -> None:
    values = copy.deepcopy(prod_stack.values)
    values["accounts"][0]["id"] = 12345678901
    broken = dataclasses.replace(prod_stack, values=values)
    result = run_program(PROJECT_DIR, broken)
    assert result.exit_code == 2
    assert result.resources == []
    assert "accounts[0].id: account id is a YAML number" in result.stderr


def test_program_runs_twice_in_one_process(prod_stack: StackConfig) -> None:
    first = run_program(PROJECT_DIR, prod_stack)
    second = run_program(PROJECT_DIR, prod_stack)
    assert first.as_json() == second.as_json()


def test_build_link_stops_program(prod_stack: StackConfig, tmp_path: Path) -> None:
    # A committed `build -> evil` link with a planted partial file that links to a
    # file outside the project: the program must write nothing and register nothing.
    project = tmp_path / "project"
    shutil.copytree(
        PROJECT_DIR / "layers",
        project / "layers",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    for name in ("__main__.py", "Pulumi.yaml", "Pulumi.prod.yaml", "layers.lock.json"):
        shutil.copy(PROJECT_DIR / name, project / name)
    victim = tmp_path / "victim.txt"
    victim.write_text("important\n")
    (project / "evil/layers").mkdir(parents=True)
    (project / "evil/layers/.org-monitoring-1.0.0.zip.partial").symlink_to(victim)
    (project / "build").symlink_to("evil")
    before = sorted(
        (path, path.is_symlink(), path.is_file() and path.read_bytes())
        for path in tmp_path.rglob("*")
    )

    result = run_program(project, prod_stack)

    assert result.exit_code == 2
    assert result.resources == []
    assert (
        "build/layers/org-monitoring-1.0.0.zip: cannot write the layer zip: build is "
        "a symbolic link" in result.stderr
    )
    assert victim.read_text() == "important\n"
    after = sorted(
        (path, path.is_symlink(), path.is_file() and path.read_bytes())
        for path in tmp_path.rglob("*")
    )
    assert after == before

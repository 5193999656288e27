"""The command line: exit codes, text and JSON shapes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from governance.cli import main
from tests.conftest import PROJECT_DIR


def broken_stack(tmp_path: Path) -> Path:
    text = (PROJECT_DIR / "Pulumi.prod.yaml").read_text()
    path = tmp_path / "Pulumi.broken.yaml"
    path.write_text(text.replace('id: "012345678901"', "id: 012345678901"))
    return path


def test_validate_prod(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--stack", "prod"]) == 0
    assert capsys.readouterr().out == "stack prod: configuration valid, 10 accounts\n"


def test_validate_invalid_exits_two(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(
        ["validate", "--stack", "prod", "--config", str(broken_stack(tmp_path))]
    )
    assert status == 2
    error = capsys.readouterr().err
    assert error.startswith("invalid configuration: 1 problem\n")
    assert "accounts[4].id: account id is a YAML number" in error
    assert (
        'fix:     quote the id in the stack file, for example "012345678901"' in error
    )


def test_validate_json_lists_problems(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    arguments = ["validate", "--stack", "prod", "--json"]
    status = main([*arguments, "--config", str(broken_stack(tmp_path))])
    document = json.loads(capsys.readouterr().out)
    assert status == 2
    assert document["valid"] is False
    assert document["problems"][0]["path"] == "accounts[4].id"
    assert document["problems"][0]["found"] == "12345678901"


def test_preview_text_lists_accounts(
    prod_stack, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["preview", "--stack", "prod", "--json"]) == 0
    resources = json.loads(capsys.readouterr().out)["resources"]
    assert main(["preview", "--stack", "prod"]) == 0
    lines = capsys.readouterr().out.splitlines()
    for account in prod_stack.values["accounts"]:
        count = sum(1 for resource in resources if resource["account"] == account["id"])
        header = f"account {account['id']} ({account['name']}): {count} resources"
        assert header in lines
    management = sum(
        1 for resource in resources if resource["account"] == "900000000001"
    )
    assert f"account 900000000001 (management): {management} resources" in lines
    assert f"Total: {len(resources)} resources in 11 accounts" in lines


def test_preview_text_shows_endpoint_costs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["preview", "--stack", "prod"]) == 0
    out = capsys.readouterr().out
    section = out[out.index("VPC endpoints, with an estimate") :]
    assert (
        "payments-dev (account 456789012345, eu-west-1): new VPC 10.40.0.0/16, "
        "subnets in eu-west-1a, eu-west-1b\n"
        "  security group vpc-endpoints-payments-dev: TCP 443 from 10.40.0.0/16 only\n"
        "  + Gateway    com.amazonaws.eu-west-1.dynamodb  free\n"
        "      policy: Allow * on * to principals of o-7k2m9x4q1z\n"
        "  + Interface  com.amazonaws.eu-west-1.logs      2 zones x 730 h x $0.010, "
        "private DNS: $14.60/month\n"
    ) in section
    assert (
        "      policy: Allow secretsmanager:DescribeSecret, "
        "secretsmanager:GetSecretValue on * to principals of o-7k2m9x4q1z\n"
    ) in section
    assert (
        "  estimated: $87.60/month at $0.010 per endpoint and zone-hour "
        "(us-east-1 price; eu-west-1 is not in the price table)\n"
    ) in section
    assert (
        "Estimated total: $233.60/month for the interface endpoints of 6 accounts\n"
    ) in section
    assert "data processing (per GB) not included" in section


def test_preview_json_shape(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["preview", "--stack", "prod", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert set(document) == {"project", "stack", "resources", "outputs", "costs"}
    assert document["project"] == "org-governance"
    assert document["stack"] == "prod"
    for resource in document["resources"]:
        assert set(resource) == {"type", "name", "account", "provider", "inputs"}
    provider = next(
        resource
        for resource in document["resources"]
        if resource["type"] == "pulumi:providers:aws" and resource["name"] == "sandbox"
    )
    assert provider["account"] == "567890123456"
    assert provider["inputs"]["region"] == "us-east-1"


def test_preview_json_costs(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["preview", "--stack", "prod", "--json"]) == 0
    costs = json.loads(capsys.readouterr().out)["costs"]
    assert costs["totalMonthlyUsd"] == 233.6
    assert sorted(costs["accounts"]) == [
        "orders-prod",
        "orders-staging",
        "payments-dev",
        "payments-prod",
        "payments-staging",
        "shared-services",
    ]
    assert costs["accounts"]["shared-services"]["monthlyUsd"] == 87.6


def test_preview_invalid_exits_two(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(
        ["preview", "--stack", "prod", "--config", str(broken_stack(tmp_path))]
    )
    captured = capsys.readouterr()
    assert status == 2
    assert captured.out == ""
    assert "accounts[4].id" in captured.err


def test_module_entry_point(tmp_path: Path) -> None:
    # The documented command, in a process of its own, from a copy of the project.
    copy = tmp_path / "project"
    shutil.copytree(
        PROJECT_DIR,
        copy,
        ignore=shutil.ignore_patterns(
            ".git", "venv", ".venv", "__pycache__", ".*cache"
        ),
    )
    done = subprocess.run(
        [sys.executable, "-m", "governance", "validate", "--stack", "prod"],
        cwd=copy,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "configuration valid" in done.stdout


def test_validate_huge_limit_exits_two(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (PROJECT_DIR / "Pulumi.prod.yaml").read_text()
    path = tmp_path / "Pulumi.huge.yaml"
    path.write_text(text.replace("limitUsd: 5000", "limitUsd: " + "9" * 400, 1))
    status = main(["validate", "--stack", "prod", "--config", str(path)])
    assert status == 2
    error = capsys.readouterr().err
    assert error.startswith("invalid configuration: 1 problem\n")
    assert (
        "organization.budget.limitUsd: limitUsd is over the maximum budget limit "
        "this program accepts" in error
    )

"""The command line for split organizations: `shards` and `validate` of a shard."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from governance.cli import main
from tests.sharded import SHARED, copy_project, edit

CORE_ACCOUNTS = [
    "log-archive",
    "network",
    "sandbox",
    "security-audit",
    "shared-services",
]
WORKLOAD_ACCOUNTS = [
    "orders-prod",
    "orders-staging",
    "payments-dev",
    "payments-prod",
    "payments-staging",
]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the project's sharded sample that a test may change."""
    return copy_project(tmp_path)


def test_shards_json_is_matrix(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["shards", "--json"]) == 0
    output = capsys.readouterr().out
    assert output.count("\n") == 1
    assert json.loads(output) == {
        "include": [
            {
                "stack": "prod-core",
                "accounts": CORE_ACCOUNTS,
                "organizationResources": True,
            },
            {
                "stack": "prod-workloads",
                "accounts": WORKLOAD_ACCOUNTS,
                "organizationResources": False,
            },
        ]
    }


def test_shards_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["shards"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "organization o-7k2m9x4q1z: 10 accounts in 2 stacks (organization.yaml), "
        "at most 25 accounts per stack",
        "prod-core: 5 accounts, organization-level resources",
        "  " + ", ".join(CORE_ACCOUNTS),
        "prod-workloads: 5 accounts",
        "  " + ", ".join(WORKLOAD_ACCOUNTS),
    ]


def test_shards_of_unsharded_stack(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["shards", "--stack", "prod", "--json"]) == 0
    include = json.loads(capsys.readouterr().out)["include"]
    assert [entry["stack"] for entry in include] == ["prod"]
    assert include[0]["accounts"] == sorted(CORE_ACCOUNTS + WORKLOAD_ACCOUNTS)
    assert include[0]["organizationResources"] is True


def test_shards_of_sharded_stack(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["shards", "--stack", "prod-workloads", "--json"]) == 0
    include = json.loads(capsys.readouterr().out)["include"]
    assert [entry["stack"] for entry in include] == ["prod-core", "prod-workloads"]


def test_shards_warnings_go_to_stderr(
    project: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    edit(
        project,
        SHARED,
        lambda document: document["shards"].update(maxAccountsPerStack=4),
    )
    assert main(["shards", "--json", "--project-dir", str(project)]) == 0
    captured = capsys.readouterr()
    assert list(json.loads(captured.out)) == ["include"]
    assert captured.err.startswith("2 warnings\n")
    assert "stack prod-workloads covers 5 accounts" in captured.err


def test_shards_invalid_exits_two(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["shards", "--shared", "missing.yaml"]) == 2
    error = capsys.readouterr().err
    assert "org-governance:shared: shared file not found" in error


@pytest.mark.parametrize(
    ("stack", "expected"),
    [
        ("prod", "stack prod: configuration valid, 10 accounts"),
        (
            "prod-core",
            "stack prod-core: configuration valid, 5 of the organization's 10 accounts",
        ),
    ],
)
def test_validate_counts_covered_accounts(
    stack: str, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", "--stack", stack]) == 0
    assert capsys.readouterr().out == expected + "\n"


def test_validate_json_of_shard(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--stack", "prod-workloads", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["accounts"] == 5
    assert document["organizationAccounts"] == 10


def test_preview_of_shard_lists_its_accounts(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["preview", "--stack", "prod-workloads", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert sorted(document["outputs"]["accounts"]) == WORKLOAD_ACCOUNTS

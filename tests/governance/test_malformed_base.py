"""Malformed snapshots and stack exports: each is exit 2 with a named problem.

A base can arrive in a pull request or be edited by hand, so no shape of it
may end the diff or the check with a traceback.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from governance.cli import main
from tests.governance.review_helpers import SMALL_STACK, SNAPSHOT_DIR, STACK_EXPORT

TRUST = "payments-prod/trust-policy/WorkloadDeployer.json"
ROLE = "payments-prod/role/WorkloadDeployer.json"
BUDGET = "payments-prod/budget/payments-prod-monthly-cost.json"


def deep(levels: int) -> str:
    return "[" * levels + "]" * levels


def set_file(path: str, text: str) -> Callable[[Path], None]:
    def change(directory: Path) -> None:
        (directory / path).write_text(text)

    return change


def set_in_file(path: str, key: str, value: Any) -> Callable[[Path], None]:
    def change(directory: Path) -> None:
        document = json.loads((directory / path).read_text())
        document[key] = value
        (directory / path).write_text(json.dumps(document))

    return change


def set_in_index(key: str, value: Any) -> Callable[[Path], None]:
    def change(directory: Path) -> None:
        index = json.loads((directory / "index.json").read_text())
        index[key] = value
        (directory / "index.json").write_text(json.dumps(index))

    return change


# (change to a copy of policies/prod, a line the problem output must contain)
SNAPSHOT_CASES: dict[str, tuple[Callable[[Path], None], str]] = {
    "document is a list": (
        set_file(TRUST, "[]"),
        f"{TRUST}: role WorkloadDeployer: the document is not an object",
    ),
    "statement is a string": (
        set_in_file(TRUST, "Statement", "allow all"),
        "role WorkloadDeployer: Statement is neither an object nor a list",
    ),
    "condition is a list": (
        set_in_file(TRUST, "Statement", [{"Effect": "Allow", "Condition": []}]),
        "role WorkloadDeployer: Statement[0].Condition is not an object of operators",
    ),
    "session duration is text": (
        set_in_file(ROLE, "maxSessionDuration", "abc"),
        "role WorkloadDeployer: maxSessionDuration is not a whole number",
    ),
    "managed policies not strings": (
        set_in_file(ROLE, "managedPolicyArns", [{}]),
        "role WorkloadDeployer: managedPolicyArns is not a list of strings",
    ),
    "budget limit not an amount": (
        set_in_file(BUDGET, "limitUsd", "NaN"),
        "budget payments-prod-monthly-cost: limitUsd is not an amount",
    ),
    "budget notification without keys": (
        set_in_file(BUDGET, "notifications", [{}]),
        "budget payments-prod-monthly-cost: notifications[0] lacks one of",
    ),
    "document nested too deep": (
        set_file(TRUST, deep(100_000)),
        f"cannot read {TRUST}: maximum recursion depth exceeded",
    ),
    "account entry not an object": (
        set_in_index("accounts", ["payments-prod"]),
        "accounts[0] is not an object of name, id and region strings",
    ),
    "format true": (set_in_index("format", True), "unknown index format True"),
    "trust policy length as text": (
        set_in_index("trustPolicyLength", "abc"),
        "trustPolicyLength is not a whole number",
    ),
    "management account as a list": (
        set_in_index("managementAccountId", ["900000000001"]),
        "managementAccountId is not a string",
    ),
}


def run(capsys: pytest.CaptureFixture[str], *arguments: str) -> tuple[int, str]:
    status = main(list(arguments))
    return status, capsys.readouterr().err


@pytest.mark.parametrize("case", sorted(SNAPSHOT_CASES))
def test_malformed_snapshot_exits_two(case: str, tmp_path: Path, capsys) -> None:
    change, expected = SNAPSHOT_CASES[case]
    base = tmp_path / "base"
    shutil.copytree(SNAPSHOT_DIR, base)
    change(base)
    status, err = run(capsys, "diff", "--stack", "prod", "--base", str(base))
    assert status == 2, err
    assert expected in err, err
    assert "Traceback" not in err


def role_resource(document: dict[str, Any]) -> dict[str, Any]:
    return next(
        item
        for item in document["deployment"]["resources"]
        if item["urn"].endswith("::payments-prod-WorkloadDeployer")
    )


def set_role(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        role_resource(document)["outputs"][key] = value

    return change


def on_default_provider(document: dict[str, Any]) -> None:
    default = next(
        item
        for item in document["deployment"]["resources"]
        if item["type"] == "pulumi:providers:aws"
        and item["urn"].endswith("::default_7_51_1")
    )
    role_resource(document)["provider"] = f"{default['urn']}::{default['id']}"


def inputs_as_list(document: dict[str, Any]) -> None:
    role_resource(document)["inputs"] = ["not", "an", "object"]
    role_resource(document)["outputs"] = {}


EXPORT_CASES: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "session duration is text": (
        set_role("maxSessionDuration", "abc"),
        "role WorkloadDeployer: maxSessionDuration is not a whole number",
    ),
    "session duration is a list": (
        set_role("maxSessionDuration", [1]),
        "role WorkloadDeployer: maxSessionDuration is not a whole number",
    ),
    "session duration is a fraction": (
        set_role("maxSessionDuration", 3600.5),
        "role WorkloadDeployer: maxSessionDuration is not a whole number",
    ),
    "role name is a list": (
        set_role("name", ["WorkloadDeployer"]),
        "has a property of an unexpected shape",
    ),
    "inputs are a list": (inputs_as_list, "inputs is not an object"),
    "trust policy is a list": (
        set_role("assumeRolePolicy", []),
        "deployment.resources[6]: aws:iam/role:Role has a property of an "
        "unexpected shape",
    ),
    "role under the default provider": (
        on_default_provider,
        "deployment.resources[6].provider: aws:iam/role:Role is not under an "
        "account's provider",
    ),
}


@pytest.mark.parametrize("case", sorted(EXPORT_CASES))
def test_malformed_export_exits_two(case: str, tmp_path: Path, capsys) -> None:
    change, expected = EXPORT_CASES[case]
    document = copy.deepcopy(json.loads(STACK_EXPORT.read_text()))
    change(document)
    export = tmp_path / "export.json"
    export.write_text(json.dumps(document))
    arguments = ("--stack", "prod", "--config", str(SMALL_STACK))
    for command in (("diff", "--base", str(export)), ("check", "--state", str(export))):
        status, err = run(capsys, command[0], *arguments, *command[1:])
        assert status == 2, err
        assert expected in err, err
        assert "Traceback" not in err


def test_state_that_is_a_pipe_exits_two(tmp_path: Path, capsys) -> None:
    pipe = tmp_path / "export.json"
    os.mkfifo(pipe)
    arguments = ("--stack", "prod", "--config", str(SMALL_STACK))
    status, err = run(capsys, "check", *arguments, "--state", str(pipe))
    assert status == 2, err
    assert "cannot read the export: it is not a regular file" in err


def test_out_that_is_a_file_exits_two(tmp_path: Path, capsys) -> None:
    target = tmp_path / "snapshot"
    target.write_text("a file")
    status, err = run(capsys, "policies", "--stack", "prod", "--out", str(target))
    assert status == 2, err
    assert "--out: not a directory" in err


def test_pipe_at_a_snapshot_path_exits_two(tmp_path: Path, capsys) -> None:
    out = tmp_path / "snapshot"
    shutil.copytree(SNAPSHOT_DIR, out)
    (out / TRUST).unlink()
    os.mkfifo(out / TRUST)
    status, err = run(capsys, "policies", "--stack", "prod", "--out", str(out))
    assert status == 2, err
    assert f"--out: cannot write {TRUST}: " in err

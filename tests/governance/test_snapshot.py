"""The policy snapshot: the committed one is current, files are stable and masked."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path

import pytest

from governance import diff, snapshot
from governance.problems import ConfigError, Problem
from governance.stack_config import SECRET_PLACEHOLDER
from tests.governance.review_helpers import SNAPSHOT_DIR, policies

REFRESH = "python -m governance policies --stack prod --out policies/prod"


@pytest.fixture(scope="module")
def prod_policies(prod_stack):
    return policies(copy.deepcopy(prod_stack.values))


def test_committed_snapshot_is_current(prod_policies) -> None:
    difference = snapshot.compare(prod_policies, SNAPSHOT_DIR)
    assert not difference, (
        "policies/prod is out of date: "
        f"changed {list(difference.changed)}, missing {list(difference.missing)}, "
        f"no longer generated {list(difference.extra)}. Refresh it with `{REFRESH}` "
        "and commit the result."
    )


def test_snapshot_paths_by_account_kind_name(prod_policies) -> None:
    files = snapshot.rendered_files(prod_policies)
    assert "index.json" in files
    assert "payments-prod/trust-policy/CrossAccountLambdaRole.json" in files
    assert "payments-prod/permission-policy/CrossAccountLambdaRole.json" in files
    assert "payments-prod/role/WorkloadDeployer.json" in files
    assert "shared-services/layer-policy/workload-retry-v1.json" in files
    assert "shared-services/endpoint-policy/secretsmanager.json" in files
    assert "sandbox/topic-policy/sandbox-budget-alarms.json" in files
    assert "payments-prod/budget/payments-prod-lambda-monthly-cost.json" in files


def test_snapshot_masks_secrets(prod_policies) -> None:
    files = snapshot.rendered_files(prod_policies)
    for path, text in files.items():
        assert SECRET_PLACEHOLDER not in text, path
    trust = json.loads(files["sandbox/trust-policy/PartnerAuditRole.json"])
    condition = trust["Statement"][0]["Condition"]["StringEquals"]
    assert condition == {"sts:ExternalId": "[secret]"}


def test_snapshot_ignores_entry_order(prod_stack, prod_policies) -> None:
    values = copy.deepcopy(prod_stack.values)
    values["accounts"].reverse()
    values["executionRoles"].reverse()
    values["layers"].reverse()
    for entry in values["executionRoles"]:
        entry["trustedPrincipals"].reverse()
    reordered = snapshot.rendered_files(policies(values))
    assert reordered == snapshot.rendered_files(prod_policies)


def test_snapshot_round_trip(tmp_path: Path, prod_policies) -> None:
    written = snapshot.write(prod_policies, tmp_path / "snapshot")
    assert len(written.written) == len(snapshot.rendered_files(prod_policies))
    assert written.removed == ()
    again = snapshot.write(prod_policies, tmp_path / "snapshot")
    assert again.written == ()
    read = snapshot.read(tmp_path / "snapshot")
    assert diff.diff(read, prod_policies) == []
    assert read.by_key() == prod_policies.by_key()


def test_snapshot_removes_stale_files(tmp_path: Path, prod_policies) -> None:
    directory = tmp_path / "snapshot"
    snapshot.write(prod_policies, directory)
    stale = directory / "retired-account" / "role" / "Old.json"
    stale.parent.mkdir(parents=True)
    stale.write_text("{}\n")
    # As an earlier snapshot with that account would have listed it.
    index = json.loads((directory / "index.json").read_text())
    index["files"].append(
        {
            "path": "retired-account/role/Old.json",
            "account": "retired-account",
            "accountId": "123456789012",
            "kind": "role",
            "name": "Old",
        }
    )
    (directory / "index.json").write_text(json.dumps(index))
    assert snapshot.compare(prod_policies, directory).extra == (
        "retired-account/role/Old.json",
    )
    written = snapshot.write(prod_policies, directory)
    assert written.removed == ("retired-account/role/Old.json",)
    assert not (directory / "retired-account").exists()


def test_snapshot_reports_changed_file(tmp_path: Path, prod_policies) -> None:
    directory = tmp_path / "snapshot"
    snapshot.write(prod_policies, directory)
    path = directory / "sandbox" / "role" / "PartnerAuditRole.json"
    path.write_text(path.read_text().replace("3600", "7200"))
    (directory / "sandbox" / "budget" / "sandbox-monthly-cost.json").unlink()
    difference = snapshot.compare(prod_policies, directory)
    assert difference.changed == ("sandbox/role/PartnerAuditRole.json",)
    assert difference.missing == ("sandbox/budget/sandbox-monthly-cost.json",)


def test_snapshot_write_refuses_other_directory(tmp_path: Path, prod_policies) -> None:
    (tmp_path / "notes.txt").write_text("not a snapshot")
    with pytest.raises(ConfigError) as raised:
        snapshot.write(prod_policies, tmp_path)
    assert raised.value.problems == [
        Problem(
            "--out",
            "directory is not empty and holds no snapshot index",
            json.dumps(str(tmp_path)),
            "an empty directory, or a snapshot directory with index.json",
            "choose an empty or new directory, for example policies/prod",
        )
    ]
    assert (tmp_path / "notes.txt").exists()


def test_snapshot_read_without_index(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        snapshot.read(tmp_path)
    assert raised.value.problems == [
        Problem(
            str(tmp_path / "index.json"),
            "snapshot index not found",
            "nothing",
            "a directory written by `python -m governance policies`",
            "write one with `python -m governance policies --stack STACK --out DIR`",
        )
    ]


def test_snapshot_read_unknown_format(tmp_path: Path) -> None:
    (tmp_path / "index.json").write_text('{"format": 7, "accounts": [], "files": []}')
    with pytest.raises(ConfigError) as raised:
        snapshot.read(tmp_path)
    assert raised.value.problems[0].message == "unknown index format 7"


def _one_file_index(tmp_path: Path, path: str, account: str = "payments-prod") -> Path:
    index = {
        "format": snapshot.INDEX_FORMAT,
        "accounts": [],
        "files": [
            {
                "path": path,
                "account": account,
                "accountId": "123456789012",
                "kind": "trust-policy",
                "name": "Deployer",
            }
        ],
    }
    directory = tmp_path / "snapshot"
    directory.mkdir()
    (directory / "index.json").write_text(json.dumps(index))
    return directory


INDEX_PATH_CASES = {
    "path outside the snapshot": (
        "../outside.json",
        "payments-prod",
        "files[0]: path is not payments-prod/trust-policy/Deployer.json, the one "
        "its account, kind and name give",
        '"../outside.json"',
    ),
    "absolute path": (
        "/etc/outside.json",
        "payments-prod",
        "files[0]: path is not payments-prod/trust-policy/Deployer.json, the one "
        "its account, kind and name give",
        '"/etc/outside.json"',
    ),
    "account that climbs": (
        "../trust-policy/Deployer.json",
        "..",
        "files[0]: account name is empty or holds a path separator",
        '".."',
    ),
}


@pytest.mark.parametrize("case", sorted(INDEX_PATH_CASES))
def test_snapshot_read_rejects_foreign_paths(tmp_path: Path, case: str) -> None:
    path, account, message, found = INDEX_PATH_CASES[case]
    (tmp_path / "outside.json").write_text('{"token": "not for the report"}')
    directory = _one_file_index(tmp_path, path, account)
    with pytest.raises(ConfigError) as raised:
        snapshot.read(directory)
    assert [(problem.message, problem.found) for problem in raised.value.problems] == [
        (message, found)
    ]


def test_snapshot_read_reports_undecodable_file(tmp_path: Path) -> None:
    directory = _one_file_index(tmp_path, "payments-prod/trust-policy/Deployer.json")
    (directory / "payments-prod" / "trust-policy").mkdir(parents=True)
    (directory / "payments-prod/trust-policy/Deployer.json").write_bytes(b"\xff\xfe{")
    with pytest.raises(ConfigError) as raised:
        snapshot.read(directory)
    [problem] = raised.value.problems
    assert problem.message.startswith(
        "files[0]: cannot read payments-prod/trust-policy/Deployer.json: "
    )


def _written(tmp_path: Path, prod_policies) -> Path:
    directory = tmp_path / "snapshot"
    snapshot.write(prod_policies, directory)
    return directory


TRUST_FILE = "payments-prod/trust-policy/WorkloadDeployer.json"


def _read_problems(directory: Path) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        snapshot.read(directory)
    return [problem.message for problem in raised.value.problems]


def test_snapshot_read_rejects_linked_file(tmp_path: Path, prod_policies) -> None:
    directory = _written(tmp_path, prod_policies)
    outside = tmp_path / "credentials.json"
    outside.write_text('{"token": "outside-secret"}')
    (directory / TRUST_FILE).unlink()
    (directory / TRUST_FILE).symlink_to(outside)
    messages = _read_problems(directory)
    assert len(messages) == 1
    assert messages[0].endswith(f"cannot read {TRUST_FILE}: it is a symbolic link")
    assert "outside-secret" not in messages[0]


def test_snapshot_read_rejects_linked_folder(tmp_path: Path, prod_policies) -> None:
    directory = _written(tmp_path, prod_policies)
    outside = tmp_path / "elsewhere"
    (directory / "payments-prod" / "trust-policy").rename(outside)
    (directory / "payments-prod" / "trust-policy").symlink_to(outside)
    messages = _read_problems(directory)
    assert messages
    assert all(
        message.endswith("its folder payments-prod/trust-policy is a symbolic link")
        for message in messages
    )


def test_snapshot_read_rejects_linked_index(tmp_path: Path, prod_policies) -> None:
    directory = _written(tmp_path, prod_policies)
    outside = tmp_path / "index-elsewhere.json"
    (directory / "index.json").rename(outside)
    (directory / "index.json").symlink_to(outside)
    assert _read_problems(directory) == ["cannot read the index: it is a symbolic link"]


def test_snapshot_read_rejects_pipe(tmp_path: Path, prod_policies) -> None:
    directory = _written(tmp_path, prod_policies)
    (directory / TRUST_FILE).unlink()
    os.mkfifo(directory / TRUST_FILE)
    messages = _read_problems(directory)
    assert messages == [
        f"files[{_position(directory, TRUST_FILE)}]: cannot read {TRUST_FILE}: "
        "it is not a regular file"
    ]


def test_snapshot_read_rejects_huge_file(tmp_path: Path, prod_policies) -> None:
    directory = _written(tmp_path, prod_policies)
    (directory / TRUST_FILE).write_text(" " * (snapshot.MAX_FILE_BYTES + 1) + "{}")
    messages = _read_problems(directory)
    assert messages == [
        f"files[{_position(directory, TRUST_FILE)}]: cannot read {TRUST_FILE}: it "
        "has 1,048,579 bytes, over the 1,048,576 it may have"
    ]


def _position(directory: Path, path: str) -> int:
    index = json.loads((directory / "index.json").read_text())
    return [item["path"] for item in index["files"]].index(path)


def test_snapshot_write_rejects_links(tmp_path: Path, prod_policies) -> None:
    directory = _written(tmp_path, prod_policies)
    outside = tmp_path / "bashrc"
    outside.write_text("keep me\n")
    (directory / TRUST_FILE).unlink()
    (directory / TRUST_FILE).symlink_to(outside)
    with pytest.raises(ConfigError) as raised:
        snapshot.write(prod_policies, directory)
    assert [problem.found for problem in raised.value.problems] == [
        json.dumps(TRUST_FILE)
    ]
    assert raised.value.problems[0].message == (
        "snapshot directory contains a symbolic link"
    )
    assert outside.read_text() == "keep me\n"


def test_snapshot_check_counts_link_as_changed(tmp_path: Path, prod_policies) -> None:
    directory = _written(tmp_path, prod_policies)
    copy_of_file = tmp_path / "same.json"
    copy_of_file.write_bytes((directory / TRUST_FILE).read_bytes())
    (directory / TRUST_FILE).unlink()
    (directory / TRUST_FILE).symlink_to(copy_of_file)
    assert snapshot.compare(prod_policies, directory).changed == (TRUST_FILE,)


def test_snapshot_write_keeps_unlisted_files(tmp_path: Path, prod_policies) -> None:
    directory = _written(tmp_path, prod_policies)
    (directory / "notes.json").write_text("{}")
    written = snapshot.write(prod_policies, directory)
    assert written.removed == ()
    assert (directory / "notes.json").exists()


def test_snapshot_write_rejects_invalid_index(tmp_path: Path, prod_policies) -> None:
    directory = tmp_path / "project"
    directory.mkdir()
    (directory / "index.json").write_text("not json at all")
    (directory / "package.json").write_text("{}")
    with pytest.raises(ConfigError) as raised:
        snapshot.write(prod_policies, directory)
    [problem] = raised.value.problems
    assert problem.message.startswith("cannot read the index: ")
    assert (directory / "package.json").exists()
    assert sorted(path.name for path in directory.iterdir()) == [
        "index.json",
        "package.json",
    ]


def test_snapshot_write_leaves_hard_links_alone(tmp_path: Path, prod_policies) -> None:
    directory = _written(tmp_path, prod_policies)
    outside = tmp_path / "precious.txt"
    outside.write_text("keep me\n")
    (directory / TRUST_FILE).unlink()
    os.link(outside, directory / TRUST_FILE)
    written = snapshot.write(prod_policies, directory)
    assert written.written == (TRUST_FILE,)
    assert outside.read_text() == "keep me\n"
    assert json.loads((directory / TRUST_FILE).read_text())["Statement"]


def test_snapshot_read_rejects_huge_index(tmp_path: Path, prod_policies) -> None:
    directory = _written(tmp_path, prod_policies)
    with (directory / "index.json").open("a") as index:
        index.truncate(snapshot.MAX_INDEX_BYTES + 1)
    messages = _read_problems(directory)
    assert messages == [
        "cannot read the index: it has 268,435,457 bytes, over the 268,435,456 it "
        "may have"
    ]


def test_snapshot_index_files_not_a_list(tmp_path: Path, prod_policies) -> None:
    directory = _written(tmp_path, prod_policies)
    index = json.loads((directory / "index.json").read_text())
    index["files"] = 1
    (directory / "index.json").write_text(json.dumps(index))
    assert _read_problems(directory) == ["accounts or files is not a list"]


def test_snapshot_write_keeps_foreign_empty_folders(
    tmp_path: Path, prod_policies
) -> None:
    directory = _written(tmp_path, prod_policies)
    (directory / "drafts").mkdir()
    snapshot.write(prod_policies, directory)
    assert (directory / "drafts").is_dir()

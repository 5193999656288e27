"""The review commands: exit codes and the three output formats."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from governance.cli import main
from tests.conftest import PROJECT_DIR
from tests.governance.review_helpers import SMALL_STACK, SNAPSHOT_DIR, STACK_EXPORT

PROD_FILE = PROJECT_DIR / "Pulumi.prod.yaml"

# The three changes to the prod stack file that a reviewer must see, each as a
# text replacement, with one line each format must show.
TRUST_LINE = (
    "+ payments-prod (012345678901) role CrossAccountLambdaRole: "
    "arn:aws:iam::123456789012:role/service-role/orders-lambda-execution may assume "
    "it (sts:AssumeRole) when aws:PrincipalOrgID StringEquals o-7k2m9x4q1z and "
    "sts:ExternalId StringEquals [secret]"
)
EXTERNAL_ID_LINE = (
    "! payments-prod (012345678901) role CrossAccountLambdaRole: external id no "
    "longer required for "
    "arn:aws:iam::012345678901:role/service-role/payments-lambda-execution, "
    "arn:aws:iam::408765432109:role/service-role/shared-lambda-execution"
)
LAYER_LINE = (
    "+ shared-services (408765432109) layer workload-retry-v1: shared with account "
    "345678901234 (orders-staging)"
)
DONE_WHEN = {
    "trust one more account": (
        "        - account: payments-prod\n"
        "          roles: [service-role/payments-lambda-execution]\n",
        "        - account: payments-prod\n"
        "          roles: [service-role/payments-lambda-execution]\n"
        "        - account: orders-prod\n"
        "          roles: [service-role/orders-lambda-execution]\n",
        TRUST_LINE,
        "PRINCIPAL_ADDED",
    ),
    "drop an external id": (
        "      externalId:\n"
        "        secure: v1:Y2hhbmdlLW1lLXNhbXBsZQ==:"
        "c2FtcGxlLWNpcGhlcnRleHQtbGFtYmRh\n",
        "",
        EXTERNAL_ID_LINE,
        "EXTERNAL_ID_DROPPED",
    ),
    "share a layer with another unit": (
        "organizationalUnits: [workloads-prod]",
        "organizationalUnits: [workloads-prod, workloads-staging]",
        LAYER_LINE,
        "LAYER_SHARED",
    ),
}


def changed_stack(tmp_path: Path, case: str) -> Path:
    old, new, _, _ = DONE_WHEN[case]
    text = PROD_FILE.read_text()
    assert text.count(old) == 1, f"the prod stack file no longer contains {old!r}"
    path = tmp_path / "Pulumi.changed.yaml"
    path.write_text(text.replace(old, new))
    return path


def markdown_line(line: str) -> str:
    """Return a change line as the Markdown report writes it, escaped."""
    sign, rest = line.split(" ", 1)
    where = rest.split(": ", 1)[1]
    resource = rest.split(" ", 2)[2].split(": ", 1)[0]
    text = f"{resource}: {where}"
    for character in "\\`*_[]<>|#":
        text = text.replace(character, "\\" + character)
    return f"- `{sign}` {text}"


def run(capsys: pytest.CaptureFixture[str], *arguments: str) -> tuple[int, str, str]:
    status = main(list(arguments))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.mark.parametrize("case", sorted(DONE_WHEN))
def test_done_when_text(case: str, tmp_path: Path, capsys) -> None:
    config = changed_stack(tmp_path, case)
    status, out, _ = run(
        capsys,
        "diff",
        "--stack",
        "prod",
        "--config",
        str(config),
        "--base",
        str(SNAPSHOT_DIR),
    )
    lines = out.splitlines()
    assert status == 1
    assert lines[0] == (
        "Policy changes in stack prod: the current configuration vs snapshot "
        f"{SNAPSHOT_DIR}"
    )
    assert DONE_WHEN[case][2] in lines


@pytest.mark.parametrize("case", sorted(DONE_WHEN))
def test_done_when_markdown(case: str, tmp_path: Path, capsys) -> None:
    config = changed_stack(tmp_path, case)
    status, out, _ = run(
        capsys,
        "diff",
        "--stack",
        "prod",
        "--config",
        str(config),
        "--base",
        str(SNAPSHOT_DIR),
        "--format",
        "markdown",
    )
    lines = out.splitlines()
    _, account, account_id = DONE_WHEN[case][2].split(" ")[:3]
    assert status == 1
    assert lines[0] == "### Policy changes in stack `prod`"
    assert f"#### {account} {account_id}" in lines
    assert markdown_line(DONE_WHEN[case][2]) in lines


@pytest.mark.parametrize("case", sorted(DONE_WHEN))
def test_done_when_json(case: str, tmp_path: Path, capsys) -> None:
    config = changed_stack(tmp_path, case)
    status, out, _ = run(
        capsys,
        "diff",
        "--stack",
        "prod",
        "--config",
        str(config),
        "--base",
        str(SNAPSHOT_DIR),
        "--format",
        "json",
    )
    document = json.loads(out)
    _, _, line, code = DONE_WHEN[case]
    assert status == 1
    assert document["changed"] is True
    assert document["base"] == f"snapshot {SNAPSHOT_DIR}"
    matching = [change for change in document["changes"] if change["line"] == line]
    assert len(matching) == 1
    assert matching[0]["code"] == code
    assert matching[0]["sign"] == line[0]


def test_markdown_escapes_wildcards(tmp_path: Path, capsys) -> None:
    text = PROD_FILE.read_text().replace("      allowSessionTags: true\n", "")
    config = tmp_path / "Pulumi.changed.yaml"
    config.write_text(text)
    _, out, _ = run(
        capsys,
        "diff",
        "--stack",
        "prod",
        "--config",
        str(config),
        "--base",
        str(SNAPSHOT_DIR),
        "--format",
        "markdown",
    )
    assert (
        "- `-` role WorkloadDeployer: arn:aws:iam::408765432109:role/ci/\\*, "
        "arn:aws:iam::507654321098:role/ci/\\* may no longer sts:TagSession"
    ) in out.splitlines()


@pytest.mark.parametrize("output_format", ["text", "markdown", "json"])
def test_diff_unchanged_exits_zero(output_format: str, capsys) -> None:
    status, out, _ = run(
        capsys,
        "diff",
        "--stack",
        "prod",
        "--base",
        str(SNAPSHOT_DIR),
        "--format",
        output_format,
    )
    assert status == 0
    if output_format == "json":
        document = json.loads(out)
        assert document["changed"] is False
        assert document["changes"] == []
    else:
        assert "no policy changes" in out.lower()


def test_diff_invalid_config_exits_two(tmp_path: Path, capsys) -> None:
    config = tmp_path / "Pulumi.broken.yaml"
    config.write_text(PROD_FILE.read_text().replace("threshold: 50", "threshold: -5"))
    status, out, err = run(
        capsys,
        "diff",
        "--stack",
        "prod",
        "--config",
        str(config),
        "--base",
        str(SNAPSHOT_DIR),
    )
    assert status == 2
    assert out == ""
    assert err.startswith("invalid configuration: 1 problem\n")


def test_diff_unknown_base_exits_two(capsys) -> None:
    status, out, err = run(
        capsys,
        "diff",
        "--stack",
        "prod",
        "--base",
        "no-such-revision",
        "--format",
        "json",
    )
    assert status == 2
    assert json.loads(out)["problems"] == [
        {
            "path": "--base",
            "message": "not a directory, a file or a git revision",
            "found": '"no-such-revision"',
            "allowed": "a snapshot directory, a `pulumi stack export` file, or a git "
            "revision of the project",
            "fix": "give an existing path, or a revision such as main or HEAD~1",
        }
    ]
    assert "--base: not a directory, a file or a git revision" in err


def git(directory: Path, *arguments: str) -> None:
    subprocess.run(
        [
            "git",
            "-c",
            "user.name=Test",
            "-c",
            "user.email=test@example.com",
            *arguments,
        ],
        cwd=directory,
        check=True,
        capture_output=True,
    )


def test_diff_against_git_revision(tmp_path: Path, capsys) -> None:
    # The base runs its own code in a temporary worktree of a repository that
    # contains a copy of this project. The working tree trusts one more account.
    project = tmp_path / "project"
    shutil.copytree(
        PROJECT_DIR,
        project,
        ignore=shutil.ignore_patterns(
            ".git", "venv", ".venv", "__pycache__", ".*cache", "tests"
        ),
    )

    git(project, "init", "--quiet")
    git(project, "add", "-A")
    git(project, "commit", "--quiet", "-m", "base")
    stack = project / "Pulumi.prod.yaml"
    stack.write_text(changed_stack(tmp_path, "trust one more account").read_text())

    status, out, _ = run(
        capsys,
        "diff",
        "--stack",
        "prod",
        "--project-dir",
        str(project),
        "--base",
        "HEAD",
    )
    lines = out.splitlines()
    assert status == 1
    assert lines[0].startswith(
        "Policy changes in stack prod: the current configuration vs git revision HEAD ("
    )
    assert TRUST_LINE in lines
    assert lines[-1] == "5 changes in 5 accounts: 5 added or gained"
    worktrees = subprocess.run(
        ["git", "worktree", "list"], cwd=project, capture_output=True, text=True
    )
    assert len(worktrees.stdout.splitlines()) == 1


def test_diff_against_stack_export(capsys) -> None:
    status, out, _ = run(
        capsys,
        "diff",
        "--stack",
        "prod",
        "--config",
        str(SMALL_STACK),
        "--base",
        str(STACK_EXPORT),
    )
    assert status == 1
    assert out.splitlines()[1:] == [
        "- payments-prod (012345678901) role WorkloadDeployer: dead principal "
        "AROA3XFRBF23EXAMPLE01 removed (the unique id of a deleted role or user; it "
        "matched no caller)",
        "1 change in 1 account: 1 removed or lost",
    ]


def test_check_prod_text(capsys) -> None:
    status, out, _ = run(capsys, "check", "--stack", "prod")
    lines = out.splitlines()
    assert status == 1
    assert lines[0] == "Findings in stack prod: the current configuration"
    assert (
        "WARNING ADMIN_LIKE_PERMISSIONS payments-prod (012345678901) role "
        "WorkloadDeployer: attaches arn:aws:iam::aws:policy/PowerUserAccess, which "
        "allows every action except most of IAM and Organizations; the permissions "
        "boundary arn:aws:iam::012345678901:policy/WorkloadBoundary limits it"
    ) in lines
    assert lines[-1] == (
        "5 findings: 0 ERROR, 0 SECURITY_WARNING, 5 WARNING, 0 SUGGESTION; "
        "5 at WARNING or above"
    )


def test_check_fail_on_decides_exit(capsys) -> None:
    status, out, _ = run(
        capsys, "check", "--stack", "prod", "--fail-on", "SECURITY_WARNING"
    )
    assert status == 0
    assert out.splitlines()[-1].endswith("0 at SECURITY_WARNING or above")


def test_check_markdown(capsys) -> None:
    status, out, _ = run(capsys, "check", "--stack", "prod", "--format", "markdown")
    lines = out.splitlines()
    assert status == 1
    assert lines[0] == "### Findings in stack `prod`"
    assert (
        "| severity | code | account | resource | statement | source | message |"
        in lines
    )
    assert any(
        line.startswith(
            "| WARNING | ADMIN\\_LIKE\\_PERMISSIONS | payments-prod (012345678901) | "
            "role WorkloadDeployer |  | generated | attaches "
        )
        for line in lines
    )


def test_check_state_json(capsys) -> None:
    status, out, _ = run(
        capsys,
        "check",
        "--stack",
        "prod",
        "--config",
        str(SMALL_STACK),
        "--state",
        str(STACK_EXPORT),
        "--format",
        "json",
    )
    document = json.loads(out)
    assert status == 1
    assert document["failOn"] == "WARNING"
    assert document["failing"] == 1
    assert document["sources"] == [
        "the current configuration",
        f"stack export {STACK_EXPORT}",
    ]
    assert document["findings"] == [
        {
            "code": "DEAD_PRINCIPAL",
            "severity": "ERROR",
            "account": "payments-prod",
            "accountId": "012345678901",
            "resource": "role WorkloadDeployer",
            "statement": "LegacyDeployer",
            "message": "principal AROA3XFRBF23EXAMPLE01 is the unique id of a deleted "
            "role or user; it matches no caller, not even a new role of the same "
            "name. Trust the account with an aws:PrincipalArn condition instead",
            "source": "deployed",
        }
    ]


def test_policies_write_then_check(tmp_path: Path, capsys) -> None:
    out_dir = tmp_path / "snapshot"
    status, out, _ = run(capsys, "policies", "--stack", "prod", "--out", str(out_dir))
    assert status == 0
    assert out == f"snapshot {out_dir}: 95 files written, 0 removed\n"
    status, out, _ = run(
        capsys, "policies", "--stack", "prod", "--out", str(out_dir), "--check"
    )
    assert status == 0
    assert out == f"snapshot {out_dir} is current\n"


def test_policies_check_names_files(tmp_path: Path, capsys) -> None:
    out_dir = tmp_path / "snapshot"
    run(capsys, "policies", "--stack", "prod", "--out", str(out_dir))
    config = changed_stack(tmp_path, "share a layer with another unit")
    status, out, _ = run(
        capsys,
        "policies",
        "--stack",
        "prod",
        "--config",
        str(config),
        "--out",
        str(out_dir),
        "--check",
    )
    assert status == 1
    assert out.splitlines() == [
        f"snapshot {out_dir} is out of date: 1 file differs",
        "  changed: shared-services/layer-policy/workload-retry-v1.json",
        f"refresh it with: python -m governance policies --stack prod --out {out_dir}",
    ]


def test_policies_invalid_config_exits_two(tmp_path: Path, capsys) -> None:
    config = tmp_path / "Pulumi.broken.yaml"
    config.write_text(PROD_FILE.read_text().replace("threshold: 50", "threshold: -5"))
    status, out, _ = run(
        capsys,
        "policies",
        "--stack",
        "prod",
        "--config",
        str(config),
        "--out",
        str(tmp_path / "snapshot"),
    )
    assert status == 2
    assert out == ""
    assert not (tmp_path / "snapshot").exists()


def test_check_missing_snapshot_exits_two(tmp_path: Path, capsys) -> None:
    missing = tmp_path / "nowhere"
    status, out, err = run(
        capsys, "policies", "--stack", "prod", "--out", str(missing), "--check"
    )
    assert status == 2
    assert out == ""
    assert err.startswith("invalid arguments: 1 problem\n")
    assert "--out: snapshot directory not found" in err


def test_ambiguous_base_exits_two(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A pull request could add a snapshot named like the branch it is compared
    # with, and make its own policies the base.
    shutil.copytree(SNAPSHOT_DIR, tmp_path / "HEAD")
    monkeypatch.chdir(tmp_path)
    arguments = ("diff", "--stack", "prod", "--project-dir", str(PROJECT_DIR))
    status, out, err = run(capsys, *arguments, "--base", "HEAD")
    assert status == 2
    assert out == ""
    assert "--base: base is both a path and a git revision" in err
    status, out, _ = run(capsys, *arguments, "--base", "./HEAD")
    assert status == 0
    assert "No policy changes" in out

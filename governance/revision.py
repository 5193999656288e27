"""The policy set of a git revision, built by that revision's own code.

A change in a policy builder must show in the diff as much as a change in the
configuration, so the base is not the current code run on an old stack file. The
revision is checked out into a temporary `git worktree`, and its own
`python -m governance policies` writes a snapshot there, which is read back. The
worktree is removed afterwards, whatever happened.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from governance import snapshot
from governance.policy_set import PolicySet
from governance.problems import EXIT_INVALID, ConfigError, Problem, show

log = logging.getLogger(__name__)

# Seconds the base revision's snapshot command may take; it plans without a cloud.
SNAPSHOT_TIMEOUT = 300


def _git(repository: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-C", str(repository), *arguments],
        capture_output=True,
        text=True,
        check=False,
    )


def _base_problem(revision: str, message: str, fix: str) -> ConfigError:
    return ConfigError(
        [
            Problem(
                "--base",
                message,
                show(revision),
                "a snapshot directory, a `pulumi stack export` file, or a git "
                "revision of the project",
                fix,
            )
        ]
    )


def resolve(project_dir: Path, revision: str) -> tuple[Path, str] | None:
    """Return the repository root and the commit of a revision, or None if unknown."""
    top = _git(project_dir, "rev-parse", "--show-toplevel")
    if top.returncode != 0:
        return None
    commit = _git(
        project_dir, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"
    )
    if commit.returncode != 0:
        return None
    return Path(top.stdout.strip()), commit.stdout.strip()


def policy_set_at(project_dir: Path, revision: str, stack: str) -> PolicySet:
    """Build the policy set of a stack at a git revision, with that revision's code.

    Raises ConfigError when the revision is unknown, predates the `policies`
    command, or its configuration is invalid.
    """
    resolved = resolve(project_dir, revision)
    if resolved is None:
        raise _base_problem(
            revision,
            "not a directory, a file or a git revision",
            "give an existing path, or a revision such as main or HEAD~1",
        )
    root, commit = resolved
    relative = project_dir.resolve().relative_to(root.resolve())
    with tempfile.TemporaryDirectory(prefix="governance-base-") as temporary:
        worktree = Path(temporary) / "worktree"
        added = _git(
            root, "worktree", "add", "--detach", "--quiet", str(worktree), commit
        )
        if added.returncode != 0:
            raise _base_problem(
                revision,
                f"git worktree add failed: {added.stderr.strip()}",
                "check that the repository is not locked and the revision exists",
            )
        try:
            return _snapshot_in(
                worktree / relative,
                Path(temporary) / "snapshot",
                revision,
                commit,
                stack,
            )
        finally:
            removed = _git(root, "worktree", "remove", "--force", str(worktree))
            if removed.returncode != 0:
                log.warning("git worktree remove failed: %s", removed.stderr.strip())
            _git(root, "worktree", "prune")


def _snapshot_in(
    project: Path, out: Path, revision: str, commit: str, stack: str
) -> PolicySet:
    try:
        done = _run_snapshot(project, out, stack)
    except subprocess.TimeoutExpired:
        raise _base_problem(
            revision,
            f"the snapshot of stack {stack} at revision {commit[:12]} timed out "
            f"after {SNAPSHOT_TIMEOUT} s",
            "run `python -m governance policies` at that revision to see why",
        ) from None
    if done.returncode == EXIT_INVALID and "invalid choice: 'policies'" in done.stderr:
        raise _base_problem(
            revision,
            f"revision {commit[:12]} predates the `policies` command",
            "compare with a later revision, or with a snapshot directory",
        )
    if done.returncode != 0:
        first = done.stderr.strip().splitlines()[:1]
        raise _base_problem(
            revision,
            f"the snapshot of stack {stack} at revision {commit[:12]} failed "
            f"(exit status {done.returncode}): {' '.join(first)}",
            "run `python -m governance policies` at that revision to see why",
        )
    return snapshot.read(out, source=f"git revision {revision} ({commit[:12]})")


def _run_snapshot(
    project: Path, out: Path, stack: str
) -> subprocess.CompletedProcess[str]:
    # The base's own package must be imported, not this one: run it from its
    # directory without this process's PYTHONPATH.
    environment = {
        key: value for key, value in os.environ.items() if key != "PYTHONPATH"
    }
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "governance",
            "policies",
            "--stack",
            stack,
            "--out",
            str(out),
        ],
        cwd=project,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=SNAPSHOT_TIMEOUT,
    )

"""Policy review commands as plain functions: snapshot, semantic diff and findings.

Each function returns data; `governance.cli` wires them to subcommands and
`governance.report` renders their results as text, Markdown or JSON. All raise
ConfigError on invalid input (exit status 2).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from governance import diff, findings, revision, snapshot, stored_state
from governance.diff import Change
from governance.findings import Finding, Severity
from governance.pipeline import load_and_plan
from governance.policy_set import PolicySet, shape_problems
from governance.problems import ConfigError, Problem, show
from governance.snapshot import SnapshotDifference, SnapshotWrite
from governance.stack_config import StackConfig


@dataclass(frozen=True)
class DiffResult:
    """The changes between a base and what would be deployed now."""

    stack: str
    base: str
    now: str
    changes: tuple[Change, ...]


@dataclass(frozen=True)
class CheckResult:
    """The findings of a stack and the severity from which they fail the check."""

    stack: str
    sources: tuple[str, ...]
    findings: tuple[Finding, ...]
    fail_on: Severity

    @property
    def failing(self) -> tuple[Finding, ...]:
        """Return the findings at or above `fail_on`."""
        return tuple(findings.at_or_above(self.findings, self.fail_on))


def generated_policies(stack: StackConfig, project_dir: Path) -> PolicySet:
    """Plan a stack and collect its policies; raises ConfigError when it is invalid."""
    organization, plan = load_and_plan(stack, project_dir)
    return snapshot.from_plan(
        plan,
        organization.trust_policy_length,
        "the current configuration",
    )


def write_snapshot(stack: StackConfig, project_dir: Path, out: Path) -> SnapshotWrite:
    """Write the stack's policy snapshot into `out`."""
    return snapshot.write(generated_policies(stack, project_dir), out)


def check_snapshot(
    stack: StackConfig, project_dir: Path, directory: Path
) -> SnapshotDifference:
    """Compare a snapshot directory with the snapshot the stack gives now.

    Raises ConfigError when the directory does not exist.
    """
    if not directory.is_dir():
        raise ConfigError(
            [
                Problem(
                    "--out",
                    "snapshot directory not found",
                    show(str(directory)),
                    "a directory written by `python -m governance policies`",
                    f"write it with `python -m governance policies --stack "
                    f"{stack.stack} --out {directory}`, or correct the path",
                )
            ]
        )
    return snapshot.compare(generated_policies(stack, project_dir), directory)


def load_base(
    base: str, stack: str, project_dir: Path, generated: PolicySet | None = None
) -> PolicySet:
    """Read the base of a diff: a snapshot directory, a stack export, or a revision.

    Raises ConfigError when the name is both a path and a git revision. A pull
    request could add a file or link named like the branch it is compared with.
    Also raises ConfigError when a document has a shape this program never
    writes. Documents equal to their counterparts in `generated` are not checked.
    """
    path = Path(base)
    exists = path.exists() or path.is_symlink()
    if exists and revision.resolve(project_dir, base) is not None:
        raise ConfigError(
            [
                Problem(
                    "--base",
                    "base is both a path and a git revision",
                    show(base),
                    "a name that is only one of the two",
                    f"for the revision, give it in full (refs/heads/{base}, or "
                    f"its commit id); for the path, write ./{base}",
                )
            ]
        )
    if path.is_dir():
        policy_set = snapshot.read(path)
    elif path.is_file():
        policy_set = stored_state.read_export(path)
    else:
        policy_set = revision.policy_set_at(project_dir, base, stack)
    problems = shape_problems(policy_set, generated)
    if problems:
        raise ConfigError(problems)
    return policy_set


def diff_stack(stack: StackConfig, project_dir: Path, base: str) -> DiffResult:
    """Compare what the stack would deploy now with a base."""
    now = generated_policies(stack, project_dir)
    old = load_base(base, stack.stack, project_dir, now)
    return DiffResult(
        stack=stack.stack,
        base=old.source,
        now=now.source,
        changes=tuple(diff.diff(old, now)),
    )


def check_stack(
    stack: StackConfig,
    project_dir: Path,
    state: Path | None = None,
    fail_on: Severity = Severity.WARNING,
) -> CheckResult:
    """Run the checks over the generated policies, and over deployed state if given."""
    generated = generated_policies(stack, project_dir)
    found = findings.check(generated, "generated")
    sources = [generated.source]
    if state is not None:
        deployed = stored_state.read_export(state)
        problems = shape_problems(deployed, generated)
        if problems:
            raise ConfigError(problems)
        found += findings.check(
            deployed, "deployed", generated.organization_account_ids()
        )
        sources.append(deployed.source)
    found.sort(key=lambda item: (-item.severity, item.source != "generated"))
    return CheckResult(
        stack=stack.stack,
        sources=tuple(sources),
        findings=tuple(found),
        fail_on=fail_on,
    )

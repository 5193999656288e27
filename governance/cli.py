"""The command line: thin wiring from arguments to plain functions and back to text.

Exit status: 0 success, 1 findings or differences, 2 invalid input.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

from governance import (
    collector,
    config,
    layer_lock,
    report,
    review,
    shards,
    shared_file,
)
from governance.endpoint_costs import (
    CostEstimate,
    estimate_costs,
)
from governance.findings import Severity
from governance.pipeline import load_and_plan
from governance.plan import OrganizationPlan
from governance.preview import PreviewResult, run_program
from governance.problems import EXIT_INVALID, ConfigError
from governance.stack_config import StackConfig, read_stack

log = logging.getLogger(__name__)

PROJECT_DIR = Path(__file__).resolve().parent.parent


def _add_stack_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--stack", required=True, help="stack name; reads Pulumi.<stack>.yaml"
    )
    parser.add_argument(
        "--config",
        type=Path,
        help="stack file to read in place of Pulumi.<stack>.yaml",
    )
    parser.add_argument(
        "--project-dir",
        type=Path,
        default=PROJECT_DIR,
        help="directory holding Pulumi.yaml and __main__.py (default: this project)",
    )


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of every subcommand."""
    parser = argparse.ArgumentParser(
        prog="python -m governance",
        description="Validate, preview and review the org-governance Pulumi program "
        "without a cloud. Exit status: 0 success, 1 findings or differences, "
        "2 invalid input.",
    )
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="log more; repeat for debug"
    )
    commands = parser.add_subparsers(dest="command", required=True)

    validate = commands.add_parser("validate", help="validate a stack's configuration")
    _add_stack_arguments(validate)
    validate.add_argument(
        "--json", action="store_true", help="print the result as JSON"
    )

    preview = commands.add_parser(
        "preview", help="run the program offline and list its resources"
    )
    _add_stack_arguments(preview)
    preview.add_argument(
        "--json", action="store_true", help="print the preview as one JSON object"
    )

    listing = commands.add_parser(
        "shards",
        help="list the stacks of an organization and the accounts each covers",
    )
    listing.add_argument(
        "--shared",
        default=shared_file.DEFAULT_SHARED_FILE,
        help="shared file of a split organization, relative to the project "
        f"directory (default: {shared_file.DEFAULT_SHARED_FILE})",
    )
    listing.add_argument(
        "--stack",
        help="list this stack's organization instead: the stacks of its shared "
        "file, or the stack alone when it has none",
    )
    listing.add_argument(
        "--project-dir",
        type=Path,
        default=PROJECT_DIR,
        help="directory holding Pulumi.yaml and the stack files (default: this "
        "project)",
    )
    listing.add_argument(
        "--json",
        action="store_true",
        help='print {"include": [{"stack", "accounts", "organizationResources"}]} '
        "on one line, for a CI matrix",
    )

    lock = commands.add_parser(
        "lock-layers",
        help="record the hashes of the stack's layer versions in "
        f"{layer_lock.LOCK_FILE}",
    )
    _add_stack_arguments(lock)
    lock.add_argument(
        "--replace",
        action="store_true",
        help="also overwrite versions already locked with other hashes",
    )
    _add_review_commands(commands)
    return parser


def _add_review_commands(commands: Any) -> None:
    policies = commands.add_parser(
        "policies",
        help="write every generated policy as a file, or check such a snapshot",
    )
    _add_stack_arguments(policies)
    policies.add_argument(
        "--out", type=Path, required=True, help="snapshot directory, e.g. policies/prod"
    )
    policies.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 when the directory differs from what is generated",
    )

    diff = commands.add_parser(
        "diff", help="report who gained or lost access compared with a base"
    )
    _add_stack_arguments(diff)
    diff.add_argument(
        "--base",
        required=True,
        help="a snapshot directory, a `pulumi stack export` file or a git revision",
    )
    _add_format_argument(diff)

    check = commands.add_parser("check", help="report risky policies as findings")
    _add_stack_arguments(check)
    check.add_argument(
        "--state",
        type=Path,
        help="also check the deployed state in this `pulumi stack export` file",
    )
    check.add_argument(
        "--fail-on",
        choices=[severity.name for severity in reversed(Severity)],
        default=Severity.WARNING.name,
        help="exit 1 when a finding has this severity or a more serious one "
        "(default: WARNING)",
    )
    _add_format_argument(check)


def _add_format_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format",
        choices=report.FORMATS,
        default="text",
        help="text for a terminal, markdown for a pull request comment, json",
    )


def validate_stack(
    stack: StackConfig, project_dir: Path = PROJECT_DIR
) -> tuple[config.Organization, OrganizationPlan]:
    """Validate and plan a stack's configuration; raises ConfigError on any problem."""
    return load_and_plan(stack, project_dir)


def lock_layers(
    project_dir: Path, stack: StackConfig, replace: bool = False
) -> list[layer_lock.LockChange]:
    """Record the stack's layer versions in the lock file and return what changed.

    A version locked with other hashes is overwritten only with `replace`;
    otherwise it is reported as a conflict and the file keeps it. Raises
    ConfigError when the configuration or the lock file is invalid.
    """
    organization, _ = validate_stack(stack, project_dir)
    lock, problems = layer_lock.read(project_dir)
    if problems:
        raise ConfigError(problems)
    updated, changes = layer_lock.update(
        lock,
        ((layer.name, layer.version, layer.archive) for layer in organization.layers),
        replace=replace,
    )
    if updated != lock:
        layer_lock.write(project_dir, updated)
        log.info("wrote %s", project_dir / layer_lock.LOCK_FILE)
    return changes


def list_stacks(
    project_dir: Path, shared_file: str, stack: str | None = None
) -> shards.Stacks:
    """Load an organization and the shard of each of its stacks.

    With `stack`, the organization is that stack's: the stacks of its shared
    file, or the stack alone. Raises ConfigError when anything is invalid.
    """
    if stack is None:
        return shards.describe(project_dir, shared_file)
    config_of_stack = read_stack(project_dir, stack)
    return shards.resolve(
        config_of_stack.values, config_of_stack.secret_keys, project_dir, stack
    )


def preview_stack(
    project_dir: Path, stack: StackConfig
) -> tuple[PreviewResult, CostEstimate]:
    """Validate and plan a stack, then run the program on it offline.

    Returns the preview and the VPC endpoint cost estimate of the same plan.
    Raises ConfigError before the program runs when the configuration is invalid.
    """
    _, plan = validate_stack(stack, project_dir)
    return run_program(project_dir, stack), estimate_costs(plan)


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand and return its exit status."""
    arguments = build_parser().parse_args(argv)
    logging.basicConfig(
        level=[logging.WARNING, logging.INFO, logging.DEBUG][min(arguments.verbose, 2)],
        format="%(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("botocore", "boto3", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # Every command keeps a whole organization's plan until it ends, as the
    # program does, so the program's collector setting spares the same work.
    collector.defer_full_collections()

    try:
        if arguments.command == "shards":
            stacks = list_stacks(
                arguments.project_dir, arguments.shared, arguments.stack
            )
            warnings = tuple(
                warning for found in stacks.warnings.values() for warning in found
            )
            if arguments.json:
                print(json.dumps(report.stacks_matrix(stacks)))
            else:
                print(report.format_stacks(stacks))
            if warnings:
                print(report.format_warnings(warnings), file=sys.stderr)
            return 0
        stack = read_stack(arguments.project_dir, arguments.stack, arguments.config)
        if arguments.command == "validate":
            organization, plan = validate_stack(stack, arguments.project_dir)
            if arguments.json:
                print(
                    json.dumps(
                        {
                            "valid": True,
                            "accounts": len(plan.accounts),
                            "organizationAccounts": len(organization.accounts),
                            "warnings": [
                                warning.as_dict() for warning in organization.warnings
                            ],
                        },
                        indent=2,
                    )
                )
            else:
                print(report.format_valid(stack.stack, organization, plan))
                if organization.warnings:
                    print(report.format_warnings(organization.warnings))
            return 0
        if arguments.command == "lock-layers":
            changes = lock_layers(arguments.project_dir, stack, arguments.replace)
            for change in changes:
                print(f"{change.layer} {change.version}: {change.action}")
            conflicts = [change for change in changes if change.action == "conflict"]
            if conflicts:
                noun = "version is" if len(conflicts) == 1 else "versions are"
                print(
                    f"{len(conflicts)} {noun} locked with other hashes and kept: "
                    "raise the version, or run again with --replace",
                    file=sys.stderr,
                )
                return 1
            return 0
        if arguments.command in _REVIEW_COMMANDS:
            return _REVIEW_COMMANDS[arguments.command](arguments, stack)
        if arguments.command == "preview":
            result, costs = preview_stack(arguments.project_dir, stack)
            if result.exit_code != 0:
                sys.stderr.write(result.stderr)
                return result.exit_code
            if arguments.json:
                document = {**result.as_json(), "costs": costs.as_json()}
                print(json.dumps(document, indent=2, sort_keys=True))
            else:
                print(
                    report.format_preview(result)
                    + "\n\n"
                    + report.format_endpoint_costs(costs)
                )
            return 0
    except ConfigError as error:
        if (
            getattr(arguments, "json", False)
            or getattr(arguments, "format", "") == "json"
        ):
            print(
                json.dumps(
                    {
                        "valid": False,
                        "problems": [problem.as_dict() for problem in error.problems],
                    },
                    indent=2,
                )
            )
        print(error.render(), file=sys.stderr)
        return EXIT_INVALID
    raise AssertionError(f"unhandled command {arguments.command}")


def _policies_command(arguments: argparse.Namespace, stack: StackConfig) -> int:
    command = (
        f"python -m governance policies --stack {stack.stack} --out {arguments.out}"
    )
    if arguments.check:
        difference = review.check_snapshot(stack, arguments.project_dir, arguments.out)
        print(report.format_snapshot_check(difference, arguments.out, command))
        return 1 if difference else 0
    written = review.write_snapshot(stack, arguments.project_dir, arguments.out)
    print(
        f"snapshot {arguments.out}: {report.plural(len(written.written), 'file')} "
        f"written, {len(written.removed)} removed"
    )
    return 0


def _diff_command(arguments: argparse.Namespace, stack: StackConfig) -> int:
    result = review.diff_stack(stack, arguments.project_dir, arguments.base)
    print(report.format_diff(result, arguments.format))
    return 1 if result.changes else 0


def _check_command(arguments: argparse.Namespace, stack: StackConfig) -> int:
    result = review.check_stack(
        stack, arguments.project_dir, arguments.state, Severity[arguments.fail_on]
    )
    print(report.format_findings(result, arguments.format))
    return 1 if result.failing else 0


_REVIEW_COMMANDS = {
    "policies": _policies_command,
    "diff": _diff_command,
    "check": _check_command,
}

"""The command line: thin wiring from arguments to plain functions and back to text.

Exit status: 0 success, 1 findings or differences, 2 invalid input.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from governance import (
    collector,
    config,
    layer_lock,
    policy,
    report,
    review,
    shards,
    shared_file,
)
from governance.endpoint_costs import (
    BASIS,
    HOURS_PER_MONTH,
    PRICE_DATE,
    AccountCost,
    CostEstimate,
    estimate_costs,
)
from governance.findings import Severity
from governance.network import GATEWAY
from governance.pipeline import load_and_plan
from governance.plan import OrganizationPlan
from governance.preview import PreviewResult, run_program
from governance.problems import EXIT_INVALID, ConfigError, Problem
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


def stacks_matrix(stacks: shards.Stacks) -> dict[str, Any]:
    """Return the stacks as a GitHub Actions matrix: one `include` entry each.

    The object has no other key, since a matrix makes a dimension of every key.
    """
    return {
        "include": [
            {
                "stack": shard.stack,
                "accounts": sorted(shard.accounts),
                "organizationResources": shard.organization_resources,
            }
            for shard in stacks.shards
        ]
    }


def format_stacks(stacks: shards.Stacks) -> str:
    """Render the stacks of an organization and their accounts for a terminal."""
    organization = stacks.organization
    source = f" ({stacks.shared_file})" if stacks.shared_file else ""
    noun = "stack" if len(stacks.shards) == 1 else "stacks"
    lines = [
        f"organization {organization.id}: {len(organization.accounts)} accounts in "
        f"{len(stacks.shards)} {noun}{source}, at most "
        f"{stacks.max_accounts_per_stack} accounts per stack"
    ]
    for shard in stacks.shards:
        extra = ", organization-level resources" if shard.organization_resources else ""
        lines.append(f"{shard.stack}: {len(shard.accounts)} accounts{extra}")
        lines.append("  " + (", ".join(sorted(shard.accounts)) or "no account"))
    return "\n".join(lines)


def format_valid(
    stack: str, organization: config.Organization, plan: OrganizationPlan
) -> str:
    """Say that a stack is valid and how many accounts it covers."""
    count = len(plan.accounts)
    total = len(organization.accounts)
    if count == total and plan.organization_resources:
        return f"stack {stack}: configuration valid, {count} accounts"
    return (
        f"stack {stack}: configuration valid, {count} of the organization's "
        f"{total} accounts"
    )


def format_warnings(warnings: tuple[Problem, ...]) -> str:
    """Render validation warnings for a terminal, with a count first."""
    noun = "warning" if len(warnings) == 1 else "warnings"
    body = "\n".join(warning.render() for warning in warnings)
    return f"{len(warnings)} {noun}\n{body}"


def preview_stack(
    project_dir: Path, stack: StackConfig
) -> tuple[PreviewResult, CostEstimate]:
    """Validate and plan a stack, then run the program on it offline.

    Returns the preview and the VPC endpoint cost estimate of the same plan.
    Raises ConfigError before the program runs when the configuration is invalid.
    """
    _, plan = validate_stack(stack, project_dir)
    return run_program(project_dir, stack), estimate_costs(plan)


def format_preview(result: PreviewResult) -> str:
    """Render a preview for a terminal: resources per account, then totals."""
    lines = [
        f"Preview of stack {result.stack} (project {result.project}), "
        "offline under the mock engine",
        "",
    ]
    groups: dict[str | None, list[Any]] = {}
    for resource in result.resources:
        groups.setdefault(resource.account, []).append(resource)
    names = _account_names(result)
    width = max((len(resource.type) for resource in result.resources), default=0)
    for account in sorted(
        groups, key=lambda key: (key is None, names.get(key or "", ""), key or "")
    ):
        members = groups[account]
        title = (
            f"account {account} ({names[account]})"
            if account in names
            else (f"account {account}" if account else "outside any account")
        )
        lines.append(f"{title}: {len(members)} resources")
        for resource in members:
            lines.append(f"  + {resource.type:<{width}}  {resource.name}")
            details = _DETAILS.get(resource.type)
            if details is not None:
                lines.extend(f"      {line}" for line in details(resource.inputs))
        lines.append("")
    by_type = Counter(resource.type for resource in result.resources)
    accounts = len([key for key in groups if key])
    lines.append(f"Total: {len(result.resources)} resources in {accounts} accounts")
    for type_token, count in sorted(by_type.items()):
        lines.append(f"  {count:>5}  {type_token}")
    if BUDGET_TYPE in by_type:
        lines.extend(["", BUDGET_RENAME_NOTE])
    return "\n".join(lines)


BUDGET_TYPE = "aws:budgets/budget:Budget"
BUDGET_RENAME_NOTE = (
    "Note: budget names are derived from account names, and AWS identifies a "
    "budget by its name,\nso renaming an account replaces its budgets."
)


def _budget_details(inputs: dict[str, Any]) -> list[str]:
    """Describe a budget: its name, limit, cost filters and each notification."""
    lines = [
        f"budget {inputs.get('name')} of account {inputs.get('accountId')}: "
        f"{inputs.get('limitAmount')} {inputs.get('limitUnit')} "
        f"{str(inputs.get('timeUnit', '')).lower()}"
    ]
    for cost_filter in inputs.get("costFilters") or []:
        values = ", ".join(cost_filter.get("values") or [])
        lines.append(f"only {cost_filter.get('name')}: {values}")
    operators = {"GREATER_THAN": ">", "LESS_THAN": "<", "EQUAL_TO": "="}
    for notification in inputs.get("notifications") or []:
        unit = "%" if notification.get("thresholdType") == "PERCENTAGE" else "USD"
        targets = [*(notification.get("subscriberEmailAddresses") or [])]
        targets += notification.get("subscriberSnsTopicArns") or []
        lines.append(
            f"{notification.get('notificationType')} "
            f"{operators.get(notification.get('comparisonOperator'), '?')} "
            f"{notification.get('threshold')} {unit} -> {', '.join(targets)}"
        )
    return lines


def _topic_details(inputs: dict[str, Any]) -> list[str]:
    """Describe a topic policy statement by statement, conditions included."""
    text = inputs.get("policy")
    if not isinstance(text, str):
        return []
    lines = []
    for statement in policy.parse(text)["Statement"]:
        principal = statement.get("Principal", {})
        principals = (
            principal
            if isinstance(principal, str)
            else "; ".join(f"{kind} {principal[kind]}" for kind in principal)
        )
        lines.append(
            f"policy: {statement['Effect']} {principals} {statement.get('Action')} "
            f"on {statement.get('Resource')}"
        )
        for operator, keys in statement.get("Condition", {}).items():
            for key, values in keys.items():
                listed = values if isinstance(values, list) else [values]
                lines.append(f"  if {key} {operator} {', '.join(listed)}")
    return lines


# Resource types whose inputs the text preview describes under the resource line.
_DETAILS = {
    BUDGET_TYPE: _budget_details,
    "aws:sns/topic:Topic": _topic_details,
}


def format_endpoint_costs(estimate: CostEstimate) -> str:
    """Render each account's VPC endpoints, their policies and the cost estimate."""
    lines = ["VPC endpoints, with an estimate of their monthly cost", ""]
    for account in estimate.accounts:
        lines.extend(_format_account_endpoints(account))
        lines.append("")
    lines.append(
        f"Estimated total: ${estimate.monthly_usd}/month for the interface "
        f"endpoints of {len(estimate.accounts)} accounts"
    )
    lines.append(f"  ({BASIS}; prices of {PRICE_DATE})")
    return "\n".join(lines)


def _format_account_endpoints(account: AccountCost) -> list[str]:
    network = account.network
    vpc = (
        f"new VPC {network.cidr}"
        if network.creates_vpc
        else f"VPC {network.vpc_id} ({network.cidr})"
    )
    zones = ", ".join(subnet.availability_zone for subnet in network.subnets)
    lines = [
        f"{account.account_name} (account {account.account_id}, "
        f"{network.region}): {vpc}, subnets in {zones}"
    ]
    if network.security_group is not None:
        group = network.security_group
        lines.append(
            f"  security group {group.name}: TCP {group.port} from "
            f"{group.ingress_cidr} only"
        )

    width = max(
        (len(cost.endpoint.service_name) for cost in account.endpoints), default=0
    )
    for cost in account.endpoints:
        endpoint = cost.endpoint
        if endpoint.type == GATEWAY:
            price = "free"
        else:
            dns = ", private DNS" if endpoint.private_dns else ""
            price = (
                f"{len(endpoint.availability_zones)} zones x "
                f"{HOURS_PER_MONTH} h x ${account.hourly_price_usd}"
                f"{dns}: ${cost.monthly_usd}/month"
            )
        named = "" if endpoint.name == endpoint.service else f" ({endpoint.name})"
        lines.append(
            f"  + {endpoint.type:<9}  {endpoint.service_name:<{width}}  {price}{named}"
        )
        lines.append(f"      policy: {_policy_summary(endpoint.policy)}")

    note = ""
    if account.price_region != network.region:
        note = (
            f" ({account.price_region} price; {network.region} is not in the "
            "price table)"
        )
    lines.append(
        f"  estimated: ${account.monthly_usd}/month at "
        f"${account.hourly_price_usd} per endpoint and zone-hour{note}"
    )
    return lines


def _policy_summary(document: Any) -> str:
    """Summarize an endpoint policy's statements, one clause per statement."""
    parts = []
    for statement in document["Statement"]:
        condition = statement.get("Condition", {}).get("StringEquals", {})
        organization = condition.get("aws:PrincipalOrgID")
        actions = _listed(statement["Action"])
        resources = _listed(statement["Resource"])
        part = f"{statement['Effect']} {actions} on {resources}"
        if organization:
            part += f" to principals of {organization}"
        parts.append(part)
    return "; ".join(parts)


def _listed(value: str | list[str]) -> str:
    return ", ".join(value) if isinstance(value, list) else value


def _account_names(result: PreviewResult) -> dict[str, str]:
    names = {}
    for name, account in (result.outputs.get("accounts") or {}).items():
        if isinstance(account, dict) and isinstance(account.get("id"), str):
            names[account["id"]] = name
    management = result.outputs.get("managementAccountId")
    if isinstance(management, str):
        names[management] = "management"
    return names


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand and return its exit status."""
    arguments = build_parser().parse_args(argv)
    logging.basicConfig(
        level=[logging.WARNING, logging.INFO, logging.DEBUG][min(arguments.verbose, 2)],
        format="%(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("botocore", "boto3", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # Every command holds a whole organization's plan until it ends, as the
    # program does; the same collector setting spares full collections of it.
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
                print(json.dumps(stacks_matrix(stacks)))
            else:
                print(format_stacks(stacks))
            if warnings:
                print(format_warnings(warnings), file=sys.stderr)
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
                print(format_valid(stack.stack, organization, plan))
                if organization.warnings:
                    print(format_warnings(organization.warnings))
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
                print(format_preview(result) + "\n\n" + format_endpoint_costs(costs))
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
        f"snapshot {arguments.out}: {len(written.written)} files written, "
        f"{len(written.removed)} removed"
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

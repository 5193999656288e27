"""Render results for people: text for a terminal, Markdown for a pull request, JSON.

Nothing here decides anything. The functions format what the commands compute:
stacks and their shards, validation, the offline preview with its endpoint
costs, and the review results of governance.review.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

from governance import config, policy, shards
from governance.diff import SIGNS
from governance.endpoint_costs import (
    BASIS,
    HOURS_PER_MONTH,
    PRICE_DATE,
    AccountCost,
    CostEstimate,
)
from governance.findings import Severity
from governance.network import GATEWAY
from governance.plan import OrganizationPlan
from governance.preview import PreviewResult
from governance.problems import Problem
from governance.review import CheckResult, DiffResult
from governance.snapshot import SnapshotDifference

FORMATS = ("text", "markdown", "json")

# Unicode categories of control, format, separator and unassigned characters.
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Co", "Cs", "Cn"})

# Characters that Markdown would read as emphasis, links, tables or code.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|#])")


def printable(text: str) -> str:
    """Write control and format characters as escapes, so a line stays one line.

    Names read from a snapshot or a stack export could otherwise start new lines
    in a report, move the cursor of a terminal or reorder text.
    """
    if text.isprintable():
        return text
    return "".join(
        f"\\u{ord(character):04x}"
        if unicodedata.category(character) in _HIDDEN_CATEGORIES
        else character
        for character in text
    )


def escape_markdown(text: str) -> str:
    """Escape text for a Markdown paragraph or table cell, so it shows verbatim."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", printable(text))


def plural(count: int, noun: str) -> str:
    """Return a count with its noun, in the plural unless the count is one."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _diff_summary(result: DiffResult) -> str:
    accounts = {change.account_id for change in result.changes}
    signs = Counter(change.sign for change in result.changes)
    counts = ", ".join(
        f"{signs[sign]} {meaning}" for sign, meaning in SIGNS.items() if signs[sign]
    )
    return (
        f"{plural(len(result.changes), 'change')} in "
        f"{plural(len(accounts), 'account')}: {counts}"
    )


def format_diff(result: DiffResult, output_format: str) -> str:
    """Render a diff in one of FORMATS."""
    if output_format == "json":
        return json.dumps(
            {
                "stack": result.stack,
                "base": result.base,
                "now": result.now,
                "changed": bool(result.changes),
                "summary": {
                    "changes": len(result.changes),
                    "accounts": len({change.account_id for change in result.changes}),
                    "bySign": dict(
                        sorted(
                            Counter(change.sign for change in result.changes).items()
                        )
                    ),
                },
                "changes": [change.as_dict() for change in result.changes],
            },
            indent=2,
        )
    if output_format == "markdown":
        return _diff_markdown(result)
    title = f"stack {result.stack}: {result.now} vs {result.base}"
    if not result.changes:
        return f"No policy changes in {title}"
    lines = [f"Policy changes in {title}"]
    lines.extend(change.line() for change in result.changes)
    lines.append(_diff_summary(result))
    return "\n".join(printable(line) for line in lines)


def _diff_markdown(result: DiffResult) -> str:
    lines = [f"### Policy changes in stack `{result.stack}`", ""]
    compared = escape_markdown(f"{result.now} compared with {result.base}")
    if not result.changes:
        lines.append(f"{compared}: no policy changes.")
        return "\n".join(lines)
    lines.append(f"{compared}: {escape_markdown(_diff_summary(result))}.")
    lines.append("")
    legend = ", ".join(f"`{sign}` {meaning}" for sign, meaning in SIGNS.items())
    lines.append(f"Legend: {legend}.")
    account = None
    for change in result.changes:
        if change.account_id != account:
            account = change.account_id
            lines.extend(
                [
                    "",
                    f"#### {escape_markdown(change.account)} "
                    f"({escape_markdown(change.account_id)})",
                    "",
                ]
            )
        where = f"{change.resource}: " if change.resource else ""
        lines.append(f"- `{change.sign}` {escape_markdown(where + change.message)}")
    return "\n".join(lines)


def _findings_summary(result: CheckResult) -> str:
    severities = Counter(finding.severity for finding in result.findings)
    counts = ", ".join(
        f"{severities[severity]} {severity.name}" for severity in reversed(Severity)
    )
    return (
        f"{plural(len(result.findings), 'finding')}: {counts}; "
        f"{len(result.failing)} at {result.fail_on.name} or above"
    )


def format_findings(result: CheckResult, output_format: str) -> str:
    """Render the findings of a check in one of FORMATS."""
    if output_format == "json":
        return json.dumps(
            {
                "stack": result.stack,
                "sources": list(result.sources),
                "failOn": result.fail_on.name,
                "failing": len(result.failing),
                "summary": {
                    severity.name: sum(
                        1 for finding in result.findings if finding.severity == severity
                    )
                    for severity in reversed(Severity)
                },
                "findings": [finding.as_dict() for finding in result.findings],
            },
            indent=2,
        )
    sources = " and ".join(result.sources)
    if output_format == "markdown":
        lines = [
            f"### Findings in stack `{result.stack}`",
            "",
            escape_markdown(f"{sources}: {_findings_summary(result)}") + ".",
        ]
        if result.findings:
            lines.extend(
                [
                    "",
                    "| severity | code | account | resource | statement | source | "
                    "message |",
                    "| --- | --- | --- | --- | --- | --- | --- |",
                ]
            )
            for finding in result.findings:
                cells = [
                    finding.severity.name,
                    finding.code,
                    f"{finding.account} ({finding.account_id})",
                    finding.resource,
                    finding.statement,
                    finding.source,
                    finding.message,
                ]
                lines.append(
                    "| " + " | ".join(escape_markdown(cell) for cell in cells) + " |"
                )
        return "\n".join(lines)
    lines = [f"Findings in stack {result.stack}: {sources}"]
    for finding in result.findings:
        deployed = " [deployed]" if finding.source == "deployed" else ""
        lines.append(finding.line() + deployed)
    lines.append(_findings_summary(result))
    return "\n".join(printable(line) for line in lines)


def format_snapshot_check(
    difference: SnapshotDifference, directory: Path, command: str
) -> str:
    """Render the files of an out-of-date snapshot and the command that refreshes it."""
    if not difference:
        return f"snapshot {directory} is current"
    count = len(difference.missing) + len(difference.extra) + len(difference.changed)
    verb = "differs" if count == 1 else "differ"
    lines = [f"snapshot {directory} is out of date: {plural(count, 'file')} {verb}"]
    lines.extend(f"  changed: {path}" for path in difference.changed)
    lines.extend(f"  missing: {path}" for path in difference.missing)
    lines.extend(f"  no longer generated: {path}" for path in difference.extra)
    lines.append(f"refresh it with: {command}")
    return "\n".join(lines)


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

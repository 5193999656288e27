"""Render review results: text for a terminal, Markdown for a pull request, JSON.

Nothing here decides anything; it only formats what governance.review returns.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

from governance.diff import SIGNS
from governance.findings import Severity
from governance.review import CheckResult, DiffResult
from governance.snapshot import SnapshotDifference

FORMATS = ("text", "markdown", "json")

# Characters that Markdown would read as emphasis, links, tables or code.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|#])")


def escape_markdown(text: str) -> str:
    """Escape text for a Markdown paragraph or table cell, so it shows verbatim."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _diff_summary(result: DiffResult) -> str:
    accounts = {change.account_id for change in result.changes}
    signs = Counter(change.sign for change in result.changes)
    counts = ", ".join(
        f"{signs[sign]} {meaning}" for sign, meaning in SIGNS.items() if signs[sign]
    )
    return (
        f"{_plural(len(result.changes), 'change')} in "
        f"{_plural(len(accounts), 'account')}: {counts}"
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
    return "\n".join(lines)


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
                    f"#### {escape_markdown(change.account)} ({change.account_id})",
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
        f"{_plural(len(result.findings), 'finding')}: {counts}; "
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
    return "\n".join(lines)


def format_snapshot_check(
    difference: SnapshotDifference, directory: Path, command: str
) -> str:
    """Render the files of an out-of-date snapshot and the command that refreshes it."""
    if not difference:
        return f"snapshot {directory} is current"
    count = len(difference.missing) + len(difference.extra) + len(difference.changed)
    verb = "differs" if count == 1 else "differ"
    lines = [f"snapshot {directory} is out of date: {_plural(count, 'file')} {verb}"]
    lines.extend(f"  changed: {path}" for path in difference.changed)
    lines.extend(f"  missing: {path}" for path in difference.missing)
    lines.extend(f"  no longer generated: {path}" for path in difference.extra)
    lines.append(f"refresh it with: {command}")
    return "\n".join(lines)

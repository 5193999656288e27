"""run_mocked: any program function under the mock engine, and what it keeps."""

from __future__ import annotations

import gc

import pulumi

from governance import collector
from governance.preview import run_mocked


def topic_program() -> None:
    collector.defer_full_collections()
    pulumi.CustomResource("aws:sns/topic:Topic", "alarms", {"name": "alarms"})
    pulumi.export("topic", "alarms")


def test_run_mocked_restores_collector_thresholds() -> None:
    before = gc.get_threshold()
    run_mocked("project", "stack", topic_program)
    assert gc.get_threshold() == before


def test_run_mocked_keeps_requests_when_asked() -> None:
    kept = run_mocked("project", "stack", topic_program, keep_requests=True)
    # The engine receives requests from several threads, so their order varies.
    kinds = sorted(getattr(request, "type", "outputs") for request in kept.requests)
    assert kinds == ["aws:sns/topic:Topic", "outputs", "pulumi:pulumi:Stack"]
    assert run_mocked("project", "stack", topic_program).requests == []


def test_run_mocked_records_resources_and_outputs() -> None:
    result = run_mocked("project", "stack", topic_program)
    assert [resource.name for resource in result.resources] == ["alarms"]
    assert result.outputs == {"topic": "alarms"}


def test_run_mocked_keeps_exit_status() -> None:
    def program() -> None:
        raise SystemExit(2)

    assert run_mocked("project", "stack", program).exit_code == 2

"""The monitoring layer: JSON log lines, EMF records and the cost estimate."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any

import org_monitoring
import pytest
from org_monitoring import DEFAULT_PRICES, Logger, estimate_cost, monitored


@dataclass
class Context:
    aws_request_id: str = "req-1"
    memory_limit_in_mb: int = 1024


@pytest.fixture(autouse=True)
def lambda_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "payments-api")
    monkeypatch.setattr(org_monitoring, "current_architecture", lambda: "arm64")
    monkeypatch.setattr(org_monitoring, "_cold_start", True)


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_cost_of_one_second_at_one_gb() -> None:
    cost = estimate_cost(1000, 1024, "x86_64")
    assert cost == pytest.approx(0.0000166667 + 0.0000002)


def test_cost_rounds_duration_up() -> None:
    assert estimate_cost(0.2, 1024, "arm64") == estimate_cost(1, 1024, "arm64")
    assert estimate_cost(1.2, 1024, "arm64") == estimate_cost(2, 1024, "arm64")


def test_cost_scales_with_memory() -> None:
    small = estimate_cost(100, 128, "arm64") - DEFAULT_PRICES.per_request
    large = estimate_cost(100, 1024, "arm64") - DEFAULT_PRICES.per_request
    assert large == pytest.approx(small * 8)


def test_cost_unknown_architecture() -> None:
    with pytest.raises(KeyError):
        estimate_cost(1, 128, "riscv64")


def test_log_line_is_json() -> None:
    stream = io.StringIO()
    Logger(stream).info("charge accepted", amount_cents=1250)
    (record,) = lines(stream)
    assert record["level"] == "INFO"
    assert record["message"] == "charge accepted"
    assert record["amount_cents"] == 1250
    assert record["function"] == "payments-api"
    assert record["requestId"] is None
    assert record["timestamp"].endswith("+00:00")


def test_emf_record_per_invocation() -> None:
    stream = io.StringIO()
    logger = Logger(stream)

    @monitored(namespace="Payments", stream=stream)
    def handler(event: dict[str, Any], context: Context) -> str:
        logger.info("handled")
        return event["value"]

    assert handler({"value": "ok"}, Context()) == "ok"
    log_line, metric = lines(stream)
    assert log_line["requestId"] == "req-1"
    directive = metric["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == "Payments"
    assert directive["Dimensions"] == [["FunctionName"]]
    assert directive["Metrics"] == [
        {"Name": "Duration", "Unit": "Milliseconds"},
        {"Name": "Errors", "Unit": "Count"},
        {"Name": "EstimatedCost", "Unit": "None"},
    ]
    assert isinstance(metric["_aws"]["Timestamp"], int)
    assert metric["FunctionName"] == "payments-api"
    assert metric["Errors"] == 0
    assert metric["coldStart"] is True
    assert metric["memoryMb"] == 1024
    assert metric["architecture"] == "arm64"
    assert metric["EstimatedCost"] == pytest.approx(
        estimate_cost(metric["Duration"], 1024, "arm64"), rel=0.01
    )


def test_failed_invocation_counted() -> None:
    stream = io.StringIO()

    @monitored(stream=stream)
    def handler(event: Any, context: Context) -> None:
        raise RuntimeError("downstream unavailable")

    with pytest.raises(RuntimeError):
        handler({}, Context())
    (metric,) = lines(stream)
    assert metric["Errors"] == 1
    assert metric["_aws"]["CloudWatchMetrics"][0]["Namespace"] == (
        "OrgGovernance/Lambda"
    )


def test_cold_start_only_first() -> None:
    stream = io.StringIO()
    handler = monitored(stream=stream)(lambda event, context: None)
    handler({}, Context())
    handler({}, Context())
    first, second = lines(stream)
    assert first["coldStart"] is True
    assert second["coldStart"] is False


def test_request_id_cleared_after_invocation() -> None:
    stream = io.StringIO()
    handler = monitored(stream=io.StringIO())(lambda event, context: None)
    handler({}, Context(aws_request_id="req-2"))
    Logger(stream).info("outside")
    assert lines(stream)[0]["requestId"] is None


def test_memory_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
    stream = io.StringIO()
    monitored(stream=stream)(lambda event, context: None)({}, object())
    assert lines(stream)[0]["memoryMb"] == 512

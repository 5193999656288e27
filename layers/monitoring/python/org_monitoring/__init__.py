"""Structured JSON logs and a cost metric per invocation, for Python Lambda functions.

Wrap a handler and log through `log`:

    from org_monitoring import log, monitored

    @monitored(namespace="Payments")
    def handler(event, context):
        log.info("charge accepted", amount_cents=1250)
        return {"ok": True}

Each log call prints one JSON object on stdout. After each invocation `monitored`
prints one CloudWatch Embedded Metric Format (EMF) record with the invocation's
duration, its estimated cost in USD and whether it failed. Lambda sends stdout to
CloudWatch Logs, and CloudWatch Logs turns EMF records into metrics, so the module
makes no network call and needs no permission beyond the function's log group.

The cost is an estimate: the billed duration (rounded up to the millisecond, as
Lambda bills) times the memory in GB times the price per GB-second of the
architecture, plus the price of one request. The default prices are Lambda's
on-demand prices in us-east-1: x86_64 $0.0000166667 and arm64 $0.0000133334 per
GB-second, and $0.20 per million requests. The estimate leaves out the free tier,
volume discounts, ephemeral storage and other regions' prices, so pass `prices=`
for other figures.
"""

from __future__ import annotations

import contextvars
import functools
import json
import math
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO

DEFAULT_NAMESPACE = "OrgGovernance/Lambda"

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "org_monitoring_request_id", default=None
)
_cold_start = True


@dataclass(frozen=True)
class Prices:
    """Lambda on-demand prices in USD: per GB-second by architecture, per request."""

    per_gb_second: dict[str, float]
    per_request: float


DEFAULT_PRICES = Prices(
    per_gb_second={"x86_64": 0.0000166667, "arm64": 0.0000133334},
    per_request=0.20 / 1_000_000,
)


def estimate_cost(
    duration_ms: float,
    memory_mb: int,
    architecture: str,
    prices: Prices = DEFAULT_PRICES,
) -> float:
    """Estimate the USD cost of one invocation from its duration and memory.

    Raises KeyError for an architecture that `prices` has no price for.
    """
    billed_ms = math.ceil(duration_ms)
    gb_seconds = (memory_mb / 1024) * (billed_ms / 1000)
    return gb_seconds * prices.per_gb_second[architecture] + prices.per_request


def current_architecture() -> str:
    """Return the Lambda name of this machine's architecture: x86_64 or arm64."""
    machine = platform.machine().lower()
    return "arm64" if machine in ("aarch64", "arm64") else "x86_64"


def _function_name() -> str:
    return os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "unknown")


class Logger:
    """Writes one JSON object per line: time, level, message, request id, fields.

    `stream` defaults to the standard output at the time of each call, which is
    what Lambda sends to CloudWatch Logs.
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    def _emit(self, level: str, message: str, fields: dict[str, Any]) -> None:
        record = {
            "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "level": level,
            "message": message,
            "function": _function_name(),
            "requestId": _request_id.get(),
            **fields,
        }
        stream = self._stream or sys.stdout
        stream.write(json.dumps(record, default=str, sort_keys=True) + "\n")

    def debug(self, message: str, **fields: Any) -> None:
        """Log a DEBUG line with extra fields."""
        self._emit("DEBUG", message, fields)

    def info(self, message: str, **fields: Any) -> None:
        """Log an INFO line with extra fields."""
        self._emit("INFO", message, fields)

    def warning(self, message: str, **fields: Any) -> None:
        """Log a WARNING line with extra fields."""
        self._emit("WARNING", message, fields)

    def error(self, message: str, **fields: Any) -> None:
        """Log an ERROR line with extra fields."""
        self._emit("ERROR", message, fields)


log = Logger()


def emf_record(
    namespace: str,
    dimensions: dict[str, str],
    metrics: dict[str, tuple[float, str]],
    properties: dict[str, Any],
    timestamp_ms: int,
) -> dict[str, Any]:
    """Build an Embedded Metric Format record.

    `metrics` maps each metric name to its value and CloudWatch unit; every metric
    is published with all `dimensions`. `properties` are logged but are not metrics.
    """
    return {
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [
                {
                    "Namespace": namespace,
                    "Dimensions": [sorted(dimensions)],
                    "Metrics": [
                        {"Name": name, "Unit": unit}
                        for name, (_, unit) in sorted(metrics.items())
                    ],
                }
            ],
        },
        **properties,
        **dimensions,
        **{name: value for name, (value, _) in metrics.items()},
    }


def _memory_mb(context: Any) -> int:
    value = getattr(context, "memory_limit_in_mb", None) or os.environ.get(
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"
    )
    return int(value)


def monitored(
    namespace: str = DEFAULT_NAMESPACE,
    prices: Prices = DEFAULT_PRICES,
    stream: TextIO | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Wrap a handler so that each invocation prints one EMF record.

    The record carries the metrics Duration (milliseconds), EstimatedCost (USD)
    and Errors (1 when the handler raised, else 0), with the dimension
    FunctionName. An exception from the handler is re-raised after the record.
    """

    def decorate(handler: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(handler)
        def wrapper(event: Any, context: Any) -> Any:
            global _cold_start
            cold_start, _cold_start = _cold_start, False
            request_id = getattr(context, "aws_request_id", None)
            token = _request_id.set(request_id)
            started = time.perf_counter()
            failed = False
            try:
                return handler(event, context)
            except BaseException:
                failed = True
                raise
            finally:
                duration_ms = (time.perf_counter() - started) * 1000
                memory_mb = _memory_mb(context)
                architecture = current_architecture()
                record = emf_record(
                    namespace,
                    {"FunctionName": _function_name()},
                    {
                        "Duration": (round(duration_ms, 3), "Milliseconds"),
                        "EstimatedCost": (
                            estimate_cost(duration_ms, memory_mb, architecture, prices),
                            "None",
                        ),
                        "Errors": (1 if failed else 0, "Count"),
                    },
                    {
                        "requestId": request_id,
                        "coldStart": cold_start,
                        "memoryMb": memory_mb,
                        "architecture": architecture,
                    },
                    int(time.time() * 1000),
                )
                (stream or sys.stdout).write(json.dumps(record, sort_keys=True) + "\n")
                _request_id.reset(token)

        return wrapper

    return decorate

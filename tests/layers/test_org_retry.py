"""The retry layer: backoff bounds, retryable errors and the last error."""

from __future__ import annotations

import pytest
from org_retry import backoff_delay, is_throttling, retry


class ClientError(Exception):
    """Shaped like botocore's ClientError: an error code in `response`."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.response = {"Error": {"Code": code}}


def test_delay_capped() -> None:
    assert backoff_delay(0, rand=lambda: 1.0) == pytest.approx(0.1)
    assert backoff_delay(3, rand=lambda: 1.0) == pytest.approx(0.8)
    assert backoff_delay(20, rand=lambda: 1.0) == 5.0
    assert backoff_delay(20, rand=lambda: 0.0) == 0.0


def test_throttling_codes() -> None:
    assert is_throttling(ClientError("ThrottlingException"))
    assert not is_throttling(ClientError("AccessDenied"))
    assert not is_throttling(ValueError("no response"))


def test_retries_until_success() -> None:
    outcomes = [ClientError("Throttling"), ClientError("SlowDown"), "done"]
    sleeps: list[float] = []

    def call() -> str:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    assert retry(call, sleep=sleeps.append) == "done"
    assert len(sleeps) == 2


def test_last_error_raised() -> None:
    calls = []

    def call() -> None:
        calls.append(1)
        raise ClientError("Throttling")

    with pytest.raises(ClientError):
        retry(call, attempts=3, sleep=lambda seconds: None)
    assert len(calls) == 3


def test_other_error_not_retried() -> None:
    calls = []

    def call() -> None:
        calls.append(1)
        raise ClientError("AccessDenied")

    with pytest.raises(ClientError):
        retry(call, sleep=lambda seconds: None)
    assert len(calls) == 1


def test_attempts_at_least_one() -> None:
    with pytest.raises(ValueError, match="attempts must be at least 1, not 0"):
        retry(lambda: None, attempts=0)

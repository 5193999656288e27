"""Retry a throttled call with capped exponential backoff and full jitter.

    from org_retry import retry

    item = retry(lambda: table.get_item(Key=key), retryable=is_throttling)

Attempt n (from 0) waits a random time between 0 and min(cap, base * 2**n) seconds
before the next attempt ("full jitter"), so many functions throttled at once do not
retry in step. The last error is raised when the attempts run out.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

# Error codes AWS services return when a caller is throttled.
THROTTLING_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "TooManyRequestsException",
    }
)


def is_throttling(error: BaseException) -> bool:
    """Say whether an error is a botocore ClientError with a throttling code."""
    response = getattr(error, "response", None)
    if not isinstance(response, dict):
        return False
    return response.get("Error", {}).get("Code") in THROTTLING_CODES


def backoff_delay(
    attempt: int,
    base: float = 0.1,
    cap: float = 5.0,
    rand: Callable[[], float] = random.random,
) -> float:
    """Return the seconds to wait after failed attempt `attempt` (0 for the first)."""
    return rand() * min(cap, base * 2**attempt)


def retry(
    call: Callable[[], T],
    retryable: Callable[[BaseException], bool] = is_throttling,
    attempts: int = 5,
    base: float = 0.1,
    cap: float = 5.0,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Call `call` until it returns, retrying errors that `retryable` accepts.

    Raises the error of the last attempt, or at once an error that is not
    retryable. Raises ValueError when `attempts` is less than 1.
    """
    if attempts < 1:
        raise ValueError(f"attempts must be at least 1, not {attempts}")
    for attempt in range(attempts):
        try:
            return call()
        except Exception as error:
            if attempt == attempts - 1 or not retryable(error):
                raise
            sleep(backoff_delay(attempt, base, cap))
    raise AssertionError("unreachable: the last attempt returns or raises")

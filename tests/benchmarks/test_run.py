"""The benchmark script at its smallest size: it runs, and its floors are exact.

No time or memory is asserted: the figures depend on the machine.
"""

from __future__ import annotations

import pytest

from benchmarks import run


def test_benchmark_smallest_size(capsys: pytest.CaptureFixture[str]) -> None:
    assert run.main(["--sizes", "10", "--quick"]) == 0
    output = capsys.readouterr().out
    rows = [line for line in output.splitlines() if line.startswith("| 10 |")]
    assert len(rows) == 2
    cells = [cell.strip() for cell in rows[0].strip("|").split("|")]
    assert cells[1] == "178"
    snapshot, diff = (float(cell) for cell in cells[-2:])
    assert snapshot >= 0
    assert diff >= 0
    assert "diff at 5,000 accounts: not measured" in output


def test_growth_exponent_of_linear_time() -> None:
    def result(accounts: int, seconds: float) -> run.SizeResult:
        measured = run.Measurement(seconds, seconds, 100.0)
        return run.SizeResult(
            accounts, measured, measured, measured, measured, measured, measured
        )

    lines = run.growth([result(100, 1.0), result(1000, 10.0)], "preview")
    assert lines == ["preview 100 -> 1,000 accounts: CPU time x10.0, exponent 1.00"]

"""Measure how the program's cost grows with the number of accounts.

    python benchmarks/run.py [--sizes 10,100,1000,5000] [--repeat N] [--quick]

For each size, a synthetic organization with the sample stack's mix of features
(benchmarks/synthetic.py) is measured, each measurement in a fresh Python process:

- plan: validation and planning (`governance.cli.validate_stack`) of the
  configuration values the program reads;
- preview: the real `__main__.py` under the SDK's mock engine (`run_program`);
- floor: a plain program registering the very same resources through their
  pulumi-aws classes, under the same mock engine, replayed from the preview's
  requests (benchmarks/floor.py), and `preview / floor`;
- engine minimum: the same registrations through `pulumi.CustomResource`, which
  skips the pulumi-aws classes, and `preview / engine minimum`;
- policy snapshot: `policies --out DIR` of the organization;
- semantic diff: `diff --base DIR` against a snapshot of a version in which a few
  accounts differ.

Time is CPU time of the measuring process, all threads (`time.process_time`),
around the measured call only: generating the organization and importing
modules happen before. The table and the ratios use CPU time, because it moves
less than wall-clock time when other processes share the machine. Wall-clock
times (`time.perf_counter`) follow in a second table. With
`--repeat N` every measurement runs N times, the preview and both floors
alternating, and the run with the least CPU time is kept. Peak memory is the
peak resident set size of the measuring process (`resource.getrusage(...)
.ru_maxrss`), so it includes the interpreter, the imported libraries and the
generated configuration.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import itertools
import json
import math
import os
import pickle
import platform
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parent.parent
if str(PROJECT_DIR) not in sys.path:
    # Run as `python benchmarks/run.py`, the project's packages are not on the path.
    sys.path.insert(0, str(PROJECT_DIR))

from benchmarks import synthetic  # noqa: E402

DEFAULT_SIZES = (10, 100, 1000, 5000)
QUICK_SIZES = (10, 100)

# Targets, checked on the measured figures and printed after the table.
PLAN_TARGET_ACCOUNTS = 5000
PLAN_TARGET_SECONDS = 2.0
PLAN_TARGET_MB = 500
FLOOR_TARGET_ACCOUNTS = 1000
FLOOR_TARGET_RATIO = 1.3
DIFF_TARGET_ACCOUNTS = 5000
DIFF_TARGET_SECONDS = 3.0


@dataclass
class Measurement:
    """One measured call: its wall-clock time, CPU time and the peak memory.

    Times are in seconds and memory in MiB.
    """

    seconds: float
    cpu_seconds: float
    peak_rss_mb: float
    resources: int = 0
    # How a floor's registrations differ from the preview's: empty when identical.
    differences: list[str] | None = None


def _peak_rss_mb() -> float:
    # ru_maxrss is in kibibytes on Linux and in bytes on macOS.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024 if sys.platform == "darwin" else 1024)


def _timed(call: Callable[[], Any]) -> tuple[Any, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = call()
    return result, time.perf_counter() - wall, time.process_time() - cpu


# Measurements, each run in its own process by `_measure_in_child`.


def measure_plan(size: int) -> Measurement:
    """Validate and plan a synthetic organization of `size` accounts."""
    from governance.cli import validate_stack

    stack = synthetic.synthetic_stack(size, synthetic.template_stack())
    _, wall, cpu = _timed(lambda: validate_stack(stack, PROJECT_DIR))
    return Measurement(wall, cpu, _peak_rss_mb())


def measure_preview(size: int, requests_file: Path) -> Measurement:
    """Run the program offline; save its requests for the floors to replay.

    A first run on the smallest organization imports the pulumi-aws modules the
    program uses, which the floor imports before its timing too.
    """
    from governance.preview import run_program

    template = synthetic.template_stack()
    smallest = len(template.values["accounts"])
    run_program(PROJECT_DIR, synthetic.synthetic_stack(smallest, template))
    gc.collect()
    stack = synthetic.synthetic_stack(size, template)
    result, wall, cpu = _timed(
        lambda: run_program(PROJECT_DIR, stack, keep_requests=True)
    )
    if result.exit_code != 0:
        raise RuntimeError(
            f"the program exited with {result.exit_code}: {result.stderr}"
        )
    peak = _peak_rss_mb()
    if not requests_file.exists():
        requests_file.write_bytes(
            pickle.dumps(
                [
                    (type(request).__name__, request.SerializeToString())
                    for request in result.requests
                ]
            )
        )
    return Measurement(wall, cpu, peak, resources=len(result.resources))


def measure_floor(size: int, requests_file: Path, kind: str) -> Measurement:
    """Replay the preview's registrations as a plain program of the given kind."""
    from pulumi.runtime.proto import resource_pb2

    from benchmarks import floor
    from governance.preview import run_mocked

    stack = synthetic.synthetic_stack(size, synthetic.template_stack())
    requests = [
        getattr(resource_pb2, name).FromString(data)
        for name, data in pickle.loads(requests_file.read_bytes())
    ]
    steps = floor.prepare(stack.project, stack.stack, requests, kind)
    result, wall, cpu = _timed(
        lambda: run_mocked(
            stack.project, stack.stack, floor.program(steps), keep_requests=True
        )
    )
    peak = _peak_rss_mb()
    return Measurement(
        wall,
        cpu,
        peak,
        resources=len(result.resources),
        differences=floor.differences(requests, result.requests),
    )


def measure_snapshot(size: int) -> Measurement:
    """Time the policy snapshot (`policies --out DIR`) of `size` accounts.

    The call validates, plans and writes every policy file into a new directory.
    """
    from governance import review

    stack = synthetic.synthetic_stack(size, synthetic.template_stack())
    with tempfile.TemporaryDirectory() as directory:
        out = Path(directory) / "policies"
        _, wall, cpu = _timed(lambda: review.write_snapshot(stack, PROJECT_DIR, out))
    return Measurement(wall, cpu, _peak_rss_mb())


def measure_diff(size: int) -> Measurement:
    """Time the semantic diff (`diff --base DIR`) of two versions of `size` accounts.

    The base is a snapshot of `synthetic.synthetic_values(size, ...)`, written
    before the timing; the timed call reads it, validates and plans
    `synthetic.changed_values(...)`, in which a few accounts differ, and compares.
    """
    from governance import review

    stack = synthetic.synthetic_stack(size, synthetic.template_stack())
    changed = dataclasses.replace(stack, values=synthetic.changed_values(stack.values))
    with tempfile.TemporaryDirectory() as directory:
        base_dir = Path(directory) / "base"
        review.write_snapshot(stack, PROJECT_DIR, base_dir)
        gc.collect()
        result, wall, cpu = _timed(
            lambda: review.diff_stack(changed, PROJECT_DIR, str(base_dir))
        )
    if not result.changes:
        raise RuntimeError("the two versions differ, but the diff found nothing")
    return Measurement(wall, cpu, _peak_rss_mb(), resources=len(result.changes))


def _child_main(arguments: argparse.Namespace) -> int:
    from governance import collector

    size = arguments.size
    if arguments.measure in ("plan", "snapshot", "diff"):
        # The collector setting of `python -m governance` (`cli.main`). The
        # preview's program and the floors set it themselves.
        collector.defer_full_collections()
    requests_file = Path(arguments.requests) if arguments.requests else None
    if arguments.measure == "plan":
        measured = measure_plan(size)
    elif arguments.measure == "preview":
        assert requests_file is not None
        measured = measure_preview(size, requests_file)
    elif arguments.measure in ("typed", "generic"):
        assert requests_file is not None
        measured = measure_floor(size, requests_file, arguments.measure)
    elif arguments.measure == "snapshot":
        measured = measure_snapshot(size)
    else:
        measured = measure_diff(size)
    print(json.dumps(asdict(measured)))
    return 0


def _measure_in_child(
    measure: str, size: int, requests_file: Path | None = None
) -> Measurement:
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--measure",
        measure,
        "--size",
        str(size),
    ]
    if requests_file is not None:
        command += ["--requests", str(requests_file)]
    completed = subprocess.run(
        command, capture_output=True, text=True, cwd=PROJECT_DIR, check=False
    )
    if completed.returncode != 0:
        raise RuntimeError(
            f"{measure} at {size} accounts failed:\n{completed.stderr[-4000:]}"
        )
    document = json.loads(completed.stdout.strip().splitlines()[-1])
    return Measurement(**document)


@dataclass
class SizeResult:
    """Every measurement of one organization size."""

    accounts: int
    plan: Measurement
    preview: Measurement
    floor: Measurement
    engine_minimum: Measurement
    snapshot: Measurement
    diff: Measurement

    @property
    def floor_ratio(self) -> float:
        """Return the preview's CPU time over the floor's."""
        return self.preview.cpu_seconds / self.floor.cpu_seconds

    @property
    def engine_ratio(self) -> float:
        """Return the preview's CPU time over the engine minimum's."""
        return self.preview.cpu_seconds / self.engine_minimum.cpu_seconds


def _fastest(runs: list[Measurement]) -> Measurement:
    best = min(runs, key=lambda run: run.cpu_seconds)
    best.peak_rss_mb = max(run.peak_rss_mb for run in runs)
    return best


def measure_size(size: int, repeat: int, work_dir: Path) -> SizeResult:
    """Measure one organization size; the preview and floors `repeat` times each."""
    requests_file = work_dir / f"requests-{size}.pickle"
    plan = _fastest([_measure_in_child("plan", size) for _ in range(repeat)])
    runs: dict[str, list[Measurement]] = {"preview": [], "typed": [], "generic": []}
    for _ in range(repeat):
        for measure in runs:
            runs[measure].append(_measure_in_child(measure, size, requests_file))
    for measure in ("typed", "generic"):
        for run in runs[measure]:
            if run.differences:
                raise RuntimeError(
                    f"the {measure} floor at {size} accounts registers other "
                    "resources than the preview: " + "; ".join(run.differences)
                )
    return SizeResult(
        accounts=size,
        plan=plan,
        preview=_fastest(runs["preview"]),
        floor=_fastest(runs["typed"]),
        engine_minimum=_fastest(runs["generic"]),
        snapshot=_measure_in_child("snapshot", size),
        diff=_measure_in_child("diff", size),
    )


def machine() -> dict[str, str]:
    """Describe the machine the figures were measured on."""
    memory = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        memory = "unknown"
    load = os.getloadavg() if hasattr(os, "getloadavg") else ()
    return {
        "cpus": str(os.cpu_count()),
        "memory": memory,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load average at start": " ".join(f"{value:.2f}" for value in load),
    }


HEADERS = (
    "accounts",
    "resources",
    "plan s",
    "plan MB",
    "preview s",
    "preview MB",
    "floor s",
    "floor MB",
    "preview / floor",
    "engine min s",
    "preview / engine min",
    "policy snapshot s",
    "semantic diff s",
)
WALL_HEADERS = (
    "accounts",
    "plan s",
    "preview s",
    "floor s",
    "engine min s",
    "policy snapshot s",
    "semantic diff s",
)


def table_rows(results: list[SizeResult]) -> list[list[str]]:
    """Return the main table's rows, one per size: CPU seconds, MiB and ratios."""
    return [
        [
            f"{result.accounts:,}",
            f"{result.preview.resources:,}",
            f"{result.plan.cpu_seconds:.2f}",
            f"{result.plan.peak_rss_mb:.0f}",
            f"{result.preview.cpu_seconds:.2f}",
            f"{result.preview.peak_rss_mb:.0f}",
            f"{result.floor.cpu_seconds:.2f}",
            f"{result.floor.peak_rss_mb:.0f}",
            f"{result.floor_ratio:.2f}",
            f"{result.engine_minimum.cpu_seconds:.2f}",
            f"{result.engine_ratio:.2f}",
            f"{result.snapshot.cpu_seconds:.2f}",
            f"{result.diff.cpu_seconds:.2f}",
        ]
        for result in results
    ]


def wall_rows(results: list[SizeResult]) -> list[list[str]]:
    """Return the wall-clock seconds of the kept runs, one row per size."""
    return [
        [
            f"{result.accounts:,}",
            f"{result.plan.seconds:.2f}",
            f"{result.preview.seconds:.2f}",
            f"{result.floor.seconds:.2f}",
            f"{result.engine_minimum.seconds:.2f}",
            f"{result.snapshot.seconds:.2f}",
            f"{result.diff.seconds:.2f}",
        ]
        for result in results
    ]


def format_table(headers: tuple[str, ...], rows: list[list[str]]) -> str:
    """Render a Markdown table."""
    lines = ["| " + " | ".join(row) + " |" for row in [list(headers), *rows]]
    lines.insert(1, "|" + "|".join(" --- " for _ in headers) + "|")
    return "\n".join(lines)


def growth(results: list[SizeResult], measure: str) -> list[str]:
    """Describe how a measurement's time grows from each size to the next.

    The exponent is log(t2 / t1) / log(n2 / n1): 1.0 for time linear in the
    number of accounts, 2.0 for quadratic.
    """
    lines = []
    for smaller, larger in itertools.pairwise(results):
        first = getattr(smaller, measure).cpu_seconds
        second = getattr(larger, measure).cpu_seconds
        if first <= 0 or second <= 0:
            lines.append(
                f"{measure} {smaller.accounts:,} -> {larger.accounts:,} accounts: "
                "too fast to measure"
            )
            continue
        exponent = math.log(second / first) / math.log(
            larger.accounts / smaller.accounts
        )
        lines.append(
            f"{measure} {smaller.accounts:,} -> {larger.accounts:,} accounts: "
            f"CPU time x{second / first:.1f}, exponent {exponent:.2f}"
        )
    return lines


def targets(results: list[SizeResult]) -> list[str]:
    """Check the measured figures against the targets; one line per target."""
    by_size = {result.accounts: result for result in results}
    lines = []
    plan = by_size.get(PLAN_TARGET_ACCOUNTS)
    if plan is None:
        lines.append(f"plan at {PLAN_TARGET_ACCOUNTS:,} accounts: not measured")
    else:
        met = (
            plan.plan.cpu_seconds <= PLAN_TARGET_SECONDS
            and plan.plan.peak_rss_mb <= PLAN_TARGET_MB
        )
        lines.append(
            f"plan at {PLAN_TARGET_ACCOUNTS:,} accounts: {plan.plan.cpu_seconds:.2f} s "
            f"and {plan.plan.peak_rss_mb:.0f} MB (target: at most "
            f"{PLAN_TARGET_SECONDS} s and {PLAN_TARGET_MB} MB): "
            + ("met" if met else "missed")
        )
    preview = by_size.get(FLOOR_TARGET_ACCOUNTS)
    if preview is None:
        lines.append(f"preview at {FLOOR_TARGET_ACCOUNTS:,} accounts: not measured")
    else:
        met = preview.floor_ratio <= FLOOR_TARGET_RATIO
        lines.append(
            f"preview at {FLOOR_TARGET_ACCOUNTS:,} accounts: {preview.floor_ratio:.2f}"
            f" x the floor (target: at most {FLOOR_TARGET_RATIO} x): "
            + ("met" if met else "missed")
        )
    compared = by_size.get(DIFF_TARGET_ACCOUNTS)
    if compared is None:
        lines.append(f"diff at {DIFF_TARGET_ACCOUNTS:,} accounts: not measured")
    else:
        met = compared.diff.cpu_seconds <= DIFF_TARGET_SECONDS
        lines.append(
            f"diff at {DIFF_TARGET_ACCOUNTS:,} accounts: "
            f"{compared.diff.cpu_seconds:.2f} s (target: at most "
            f"{DIFF_TARGET_SECONDS} s): " + ("met" if met else "missed")
        )
    return lines


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of the benchmark's options."""
    parser = argparse.ArgumentParser(
        prog="python benchmarks/run.py",
        description="Measure validation, planning and the offline preview as "
        "organizations grow, against the floor of a plain program.",
    )
    parser.add_argument(
        "--sizes",
        help="comma-separated numbers of accounts "
        f"(default: {','.join(map(str, DEFAULT_SIZES))}; "
        f"with --quick: {','.join(map(str, QUICK_SIZES))})",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        help="runs of each measurement; the fastest is kept (default: 3; "
        "with --quick: 1)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="small sizes and one run each, for a check that the script works",
    )
    parser.add_argument(
        "--json", type=Path, help="also write every measurement to this file"
    )
    # Internal: run one measurement in this process and print it as JSON.
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--requests", help=argparse.SUPPRESS)
    return parser


def run(sizes: list[int], repeat: int) -> list[SizeResult]:
    """Measure every size, smallest first."""
    with tempfile.TemporaryDirectory(prefix="org-governance-bench-") as work_dir:
        return [measure_size(size, repeat, Path(work_dir)) for size in sorted(sizes)]


def report(results: list[SizeResult]) -> str:
    """Render the tables, the growth between sizes and the targets."""
    lines = ["CPU seconds, peak MiB and CPU time ratios:"]
    lines.append(format_table(HEADERS, table_rows(results)))
    lines.extend(["", "Wall-clock seconds of the same runs:"])
    lines.append(format_table(WALL_HEADERS, wall_rows(results)))
    lines.append("")
    for measure in ("plan", "preview", "floor", "snapshot", "diff"):
        lines.extend(growth(results, measure))
    lines.append("")
    lines.extend(targets(results))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table, the growth and the targets."""
    arguments = build_parser().parse_args(argv)
    if arguments.measure:
        return _child_main(arguments)

    sizes = (
        [int(size) for size in arguments.sizes.split(",")]
        if arguments.sizes
        else list(QUICK_SIZES if arguments.quick else DEFAULT_SIZES)
    )
    repeat = arguments.repeat or (1 if arguments.quick else 3)
    smallest = len(synthetic.template_stack().values["accounts"])
    if min(sizes) < smallest:
        build_parser().error(f"--sizes: each size is at least {smallest} accounts")

    described = machine()
    command = ["python", "benchmarks/run.py", *(argv or sys.argv[1:])]
    print("Machine: " + ", ".join(f"{key} {value}" for key, value in described.items()))
    print("Command: " + shlex.join(command))
    results = run(sizes, repeat)
    print()
    print(report(results))

    if arguments.json:
        document = {
            "machine": described,
            "command": shlex.join(command),
            "repeat": repeat,
            "results": [asdict(result) for result in results],
        }
        arguments.json.write_text(json.dumps(document, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

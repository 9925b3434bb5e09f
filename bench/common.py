"""Helpers shared by the benches: a moto sandbox, a scaffolded project, timing."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from packerpy import sandbox


@contextmanager
def local_aws() -> Iterator[str]:
    """A moto sandbox; AWS_* point at it for this process and its children."""
    state = Path(tempfile.mkdtemp(prefix="packerpy-bench-"))
    box = sandbox.start(state)
    os.environ.update(
        AWS_ENDPOINT_URL=box.endpoint_url,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        CHECKPOINT_DISABLE="1",
    )
    try:
        yield box.endpoint_url
    finally:
        sandbox.stop(state)
        shutil.rmtree(state, ignore_errors=True)


def project(name: str = "web") -> Path:
    root = Path(tempfile.mkdtemp(prefix="packerpy-bench-project-"))
    packerpy(["init", name], cwd=root)
    return root


def packerpy(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "packerpy", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"packerpy {' '.join(args)} failed: {done.stderr.strip()}")
    return done


def timed(fn: Callable[[], object], runs: int) -> float:
    """Median wall time of `runs` calls, in seconds."""
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def paired(
    first: Callable[[], object], second: Callable[[], object], runs: int
) -> tuple[float, float, float, float]:
    """Run `first` and `second` alternately, `runs` times each, so both see the same machine load.

    Returns the medians of first's and second's wall time, of the per-pair differences
    (second - first) and of the per-pair ratios (second / first). On a shared 2-core machine
    unpaired medians drift by more than the effect measured; a pair runs within a second.
    """
    a, b = [], []
    for index in range(runs):
        order = (first, second) if index % 2 == 0 else (second, first)  # no order bias either
        for fn in order:
            start = time.perf_counter()
            fn()
            (a if fn is first else b).append(time.perf_counter() - start)
    return (
        statistics.median(a),
        statistics.median(b),
        statistics.median(y - x for x, y in zip(a, b, strict=True)),
        statistics.median(y / x for x, y in zip(a, b, strict=True)),
    )

"""Two real jobs started from ordinary views: a CSV export and a multi-stage computation.

``pace`` arguments slow a job down to a watchable speed for demos and tests; 0 is full speed.
"""

from __future__ import annotations

import csv
import io
import math
import tempfile
import time
from datetime import datetime, timedelta
from typing import Any

from notifications.jobs.runner import JobTask, job_task

EXPORT_HEADER = ("order", "placed", "customer", "country", "amount")
_COUNTRIES = ("FR", "DE", "NL", "BE", "ES", "IT", "PT", "SE", "PL", "IE")
_EPOCH = datetime(2025, 1, 1)


@job_task(kind="export_csv")
def export_csv(self: JobTask, rows: int = 20_000, pace: int = 0) -> dict[str, Any]:
    """Write ``rows`` orders to a CSV file; the result links to its download. ``pace``: rows per second."""
    pacer = _Pacer(pace)
    with tempfile.TemporaryFile() as handle:
        text = io.TextIOWrapper(handle, encoding="utf-8", newline="")
        writer = csv.writer(text)
        writer.writerow(EXPORT_HEADER)
        for number in range(1, rows + 1):
            writer.writerow(_order(number))
            self.progress(number, rows, "Writing rows")  # every row: progress() coalesces
            pacer.wait(number)
        text.flush()
        size = handle.tell()
        handle.seek(0)
        url = self.attach_file("export-%s.csv" % self.job.pk, handle)
        text.detach()
    return {"summary": "%s rows, %s KB" % (f"{rows:,}", f"{math.ceil(size / 1024):,}"), "url": url, "rows": rows}


@job_task(kind="prime_report")
def prime_report(self: JobTask, limit: int = 2_000_000, stage_seconds: float = 0) -> dict[str, Any]:
    """Count primes below ``limit`` in three stages (sieve, gaps, twins), each taking at least ``stage_seconds``."""
    steps = 100  # progress units per stage
    total = 3 * steps
    pacer = _Pacer(steps / stage_seconds if stage_seconds else 0)

    sieve = bytearray([1]) * limit
    sieve[: min(2, limit)] = b"\x00" * min(2, limit)
    chunk = max(1, math.isqrt(limit) // steps + 1)
    for index, start in enumerate(range(2, math.isqrt(limit) + 1, chunk)):
        for n in range(start, min(start + chunk, math.isqrt(limit) + 1)):
            if sieve[n]:
                sieve[n * n :: n] = bytes(len(range(n * n, limit, n)))
        done = min(steps, index + 1)
        self.progress(done, total, "Stage 1 of 3: sieving numbers below %s" % f"{limit:,}")
        pacer.wait(done)
    primes = [n for n in range(limit) if sieve[n]]

    largest, after = 0, 0
    chunk = max(1, len(primes) // steps + 1)
    for index, start in enumerate(range(1, max(2, len(primes)), chunk)):
        for i in range(start, min(start + chunk, len(primes))):
            if primes[i] - primes[i - 1] > largest:
                largest, after = primes[i] - primes[i - 1], primes[i - 1]
        self.progress(steps + min(steps, index + 1), total, "Stage 2 of 3: measuring gaps between primes")
        pacer.wait(steps + index + 1)

    twins = 0
    for index, start in enumerate(range(1, max(2, len(primes)), chunk)):
        twins += sum(1 for i in range(start, min(start + chunk, len(primes))) if primes[i] - primes[i - 1] == 2)
        self.progress(2 * steps + min(steps, index + 1), total, "Stage 3 of 3: counting twin primes")
        pacer.wait(2 * steps + index + 1)

    summary = "%s primes below %s; %s twin pairs; largest gap %s after %s" % (
        f"{len(primes):,}", f"{limit:,}", f"{twins:,}", largest, f"{after:,}",
    )  # fmt: skip
    return {"summary": summary, "primes": len(primes), "twins": twins, "largest_gap": largest, "gap_after": after}


def _order(number: int) -> tuple[int, str, str, str, str]:
    # Deterministic generated data: the same export twice gives the same file.
    mix = (number * 2654435761) % 2**32
    placed = _EPOCH + timedelta(minutes=number * 7)
    return (
        number,
        placed.isoformat(),
        "customer-%04d" % (mix % 5000),
        _COUNTRIES[mix % 10],
        "%.2f" % (mix % 100_000 / 100),
    )


class _Pacer:
    """Keeps a loop at or under ``rate`` units per second by sleeping when ahead (0: no limit)."""

    def __init__(self, rate: float):
        self.rate = rate
        self.start = time.monotonic()

    def wait(self, units: int) -> None:
        if not self.rate:
            return
        ahead = units / self.rate - (time.monotonic() - self.start)
        if ahead > 0.005:
            time.sleep(ahead)  # the demo's pace: this is the job's (simulated) work taking time

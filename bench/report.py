"""The targets of issue 17 against the last run's figures (the JSON files ``make bench`` writes in .hub/).

    python bench/report.py

Prints one row per target: what was measured, and met or not. A figure whose run is
missing prints as "not run".
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.servers import ROOT, table  # noqa: E402


def _load(name: str) -> list[dict] | dict | None:
    path = ROOT / ".hub" / f"bench-{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def _fanout(rows: list[dict]) -> list[dict]:
    out = []
    for n in sorted({r["N"] for r in rows}):
        pairs = [(r, s) for r in rows for s in rows
                 if r["setup"] == "hub" and s["setup"] == "socketio" and r["N"] == s["N"] == n and r["rep"] == s["rep"]]  # fmt: skip
        if not pairs:
            continue
        deliv = [r["deliveries/s"] / s["deliveries/s"] for r, s in pairs]
        cpu = [s["CPU µs/delivery"] / r["CPU µs/delivery"] for r, s in pairs]
        lost = max(r["lost %"] for r, _s in pairs)
        met = min(deliv) >= 0.8 and min(cpu) >= 0.8 and lost == 0
        out.append({"target": f"fan-out N={n}: ≥ 0.8× Socket.IO deliveries/s and CPU/delivery, 0 lost",
                    "measured": f"deliveries {_span(deliv)}×, CPU efficiency {_span(cpu)}×, lost {lost} %",
                    "met": "yes" if met else "no"})  # fmt: skip
    many = [(r, o) for r in rows for o in rows
            if r["setup"] == "hub-x2" and o["setup"] == "hub" and r["N"] == o["N"] and r["rep"] == o["rep"]]  # fmt: skip
    if many:
        ratios = [r["deliveries/s"] / o["deliveries/s"] for r, o in many]
        lost = max(r["lost %"] for r, _o in many)
        out.append({"target": "two processes ≥ 1.6× one process's deliveries/s, 0 lost",
                    "measured": f"{_span(ratios)}× (N={sorted({r['N'] for r, _o in many})}), lost {lost} %",
                    "met": "yes" if min(ratios) >= 1.6 and lost == 0 else "no"})  # fmt: skip
    return out


def _span(values: list[float]) -> str:
    low, high = min(values), max(values)
    return f"{low:.2f}" if round(low, 2) == round(high, 2) else f"{low:.2f}-{high:.2f}"


def main() -> None:
    rows: list[dict] = []
    connect = _load("connect")
    if connect:
        for variant in ("hub", "hub-token", "hub-session"):
            found = [r for r in connect if r["setup"] == variant]
            if found:
                worst = min(found, key=lambda r: r["conn/s"])
                rows.append({"target": f"connect ≥ 1,000/s per process ({variant})",
                             "measured": ", ".join(f"N={r['N']}: {r['conn/s']}/s, {r['all ready s']} s, "
                                                   f"{r['failed']} failed" for r in found),
                             "met": "yes" if worst["conn/s"] >= 1000 and not worst["failed"] else "no"})  # fmt: skip
    else:
        rows.append({"target": "connect ≥ 1,000/s per process", "measured": "not run", "met": ""})
    for name in ("storm", "storm-50topics"):
        storm = _load(name)
        if not storm:
            rows.append({"target": f"reconnect storm ({name})", "measured": "not run", "met": ""})
            continue
        ok = storm["all caught up s"] is not None and storm["all caught up s"] <= 15 and storm["lost silently"] == 0
        cpu = storm["CPU s to recover"] or f"> {storm['CPU s in window']}"
        rows.append({"target": f"reconnect storm, {storm['topics']} topic(s): all caught up ≤ 15 s, nothing lost",
                     "measured": f"N={storm['N']}, {storm['events/s']}/s: all connected {storm['all connected s']} s, "
                                 f"caught up {storm['all caught up s']} s, lost {storm['lost silently']}, "
                                 f"resets {storm['resets']}, server CPU {cpu} s",
                     "met": "yes" if ok else "no"})  # fmt: skip
    idle = _load("idle")
    if isinstance(idle, dict):
        rows.append({"target": "memory ≤ 20 KB RSS per idle connection at N=10,000",
                     "measured": f"{idle['RSS KB/conn']} KB at N={idle['N']} ({idle['setup']})",
                     "met": "yes" if idle["RSS KB/conn"] <= 20 and idle["N"] >= 10_000 else "no"})  # fmt: skip
    else:
        rows.append({"target": "memory ≤ 20 KB RSS per idle connection at N=10,000", "measured": "not run", "met": ""})
    fanout = _load("fanout")
    rows += _fanout(fanout) if fanout else [{"target": "fan-out", "measured": "not run", "met": ""}]
    publish = _load("publish")
    if publish:
        hub = publish[0]
        ok = hub["median_ms"] <= 0.15 and hub["p99_ms"] <= 0.5
        rows.append({"target": "sync publish median ≤ 0.15 ms, p99 ≤ 0.5 ms",
                     "measured": f"median {hub['median_ms']} ms, p99 {hub['p99_ms']} ms", "met": "yes" if ok else "no"})  # fmt: skip
    print(table(rows))


if __name__ == "__main__":
    main()

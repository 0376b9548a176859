"""Garbage-collector settings for server processes, which hold many long-lived connections.

With Python's defaults (a collection of the youngest generation every 700 net
allocations) every object that waits across a fan-out, such as the future each idle
connection awaits, is promoted to the oldest generation, and the resulting full
collections walk every connection's objects: pauses of 100-150 ms at 1000 connections.
A larger young generation lets those objects die young; freezing what start-up built
keeps it out of every later collection. See docs/performance.md, "Garbage collector".
"""

from __future__ import annotations

import gc

__all__ = ["tune"]


def tune(young_threshold: int) -> None:
    """Freeze start-up objects and collect the youngest generation every ``young_threshold`` allocations.

    ``0`` leaves the collector as Python configures it.
    """
    if young_threshold <= 0:
        return
    gc.collect()
    gc.freeze()
    _young, middle, old = gc.get_threshold()
    gc.set_threshold(young_threshold, middle, old)

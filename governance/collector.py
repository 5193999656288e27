"""Garbage collector settings for a program that registers many resources.

CPython runs a full collection, which visits every live object, each time the
objects that survived earlier collections have grown by a quarter. The program
keeps every resource and `pulumi.Output` until it ends and leaves little cyclic
garbage, so at scale those visits are most of what the collector does. In the
offline preview of 300 accounts (5,079 resources), 16 full collections took about
a third of the CPU time (docs/benchmarks.md).
"""

from __future__ import annotations

import gc

# A full collection runs after this many collections of the middle generation
# (CPython's default is 10), and still only once the long-lived objects have grown
# by a quarter. Young objects are collected as before.
FULL_COLLECTION_THRESHOLD = 1000


def defer_full_collections() -> None:
    """Make full collections rare for the rest of the process."""
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_COLLECTION_THRESHOLD)

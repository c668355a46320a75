"""Time each rule inside `engine.evaluate`: a rule whose check records its own wall time."""

from __future__ import annotations

import dataclasses
import time


def timed(rule, times: dict):
    """`rule`, with its check's wall time kept in `times[rule.id]`."""
    func = rule.func

    def run(snapshot):
        start = time.perf_counter()
        try:
            return list(func(snapshot))
        finally:
            times[rule.id] = time.perf_counter() - start

    return dataclasses.replace(rule, func=run)

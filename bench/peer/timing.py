"""How the peers time their work: one warm-up run, not counted, then the median of `runs`."""

import statistics
import time


def timed(runs, work):
    """The median milliseconds of `runs` calls of `work` after a warm-up, and its last result."""
    result = work()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = work()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result

"""How long a stack takes: a cost model fitted to measured stack times.

A stack's time is modelled as

    seconds ≈ a + b · flops + c · calls

- ``flops``: multiply-adds of the matrix products, 2·Σ(n_in·n_out) per sample and layer pass:
  three passes per training sample (forward and two backward products), one per evaluated
  sample (training and test sets, at each evaluated epoch: see ``network.eval_epochs``), and
  three over the diagnostic batch per checkpoint, all times the members;
- ``calls``: NumPy calls whose fixed cost does not shrink with the arrays: one set per layer
  per minibatch step (≈ 10 calls), what dominates small networks;
- ``a``: start-up (data, initial weights, result reduction).

The coefficients were fitted by least squares (non-negative, on relative error, then scaled to
the measured total) to the per-stack CPU times of a cold default-profile build on the 2-core
development machine, one stack at a time on one thread (as a worker runs it); ``python benchmarks/scaling.py``
measures and refits them. The model orders the stacks
(longest first, so the parallel tail is short) and gives the estimate a build prints
before it starts; it is not used for anything that changes a number.
"""

from __future__ import annotations

import math
from functools import lru_cache

# Fitted by benchmarks/scaling.py to the per-stack CPU times of a cold default-profile build's
# three steps (83 stacks, 589 runs, 252 s of CPU): least squares on relative error, then b and c scaled
# together so the model's total is the measured one (unscaled, the fit erred by 19% at the median but
# its total came out 19% short; scaled: median 33%, 90th percentile 57%, total exact). Seconds,
# seconds per FLOP, seconds per layer-step.
A_SECONDS = 0.0582
B_PER_FLOP = 1.0 / 57.2e9
C_PER_CALL = 1.99e-5


@lru_cache(maxsize=64)
def _sizes(dataset: str) -> tuple[int, int, int, int]:
    """(n_train, n_test, n_features, n_classes) of a dataset."""
    from .datasets import load_dataset
    d = load_dataset(dataset)
    return d.n_train, d.n_test, d.n_features, d.n_classes


def features(group) -> tuple[float, float]:
    """(flops, calls) of one stack (a list of RunConfig sharing a stack key)."""
    from .network import eval_epochs
    c = group[0]
    members = sum(len(x.seeds) for x in group)
    n_train, n_test, n_features, n_classes = _sizes(c.dataset)
    sizes = [n_features] + [c.width] * c.depth + [n_classes]
    per_sample = 2.0 * sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    evals = len(eval_epochs(c.epochs, c.all_checkpoints))
    checkpoints = len(c.all_checkpoints)
    samples = 3 * c.epochs * n_train + evals * (n_train + n_test) + 3 * checkpoints * min(c.diag_samples, n_train)
    steps = c.epochs * math.ceil(n_train / c.batch_size)
    return members * per_sample * samples, float(steps * (c.depth + 1))


def stack_seconds(group) -> float:
    """Estimated seconds for one stack on one core."""
    flops, calls = features(group)
    return A_SECONDS + B_PER_FLOP * flops + C_PER_CALL * calls


def estimate_seconds(configs, jobs: int = 1) -> float:
    """Estimated wall time to run ``configs`` (RunConfig list) on ``jobs`` workers.

    The stacks are dealt longest first to whichever worker is free first (as the build
    submits them), so the estimate is that schedule's makespan: at least the longest stack,
    at least the total divided by the workers.
    """
    from .runner import group_stacks
    times = sorted((stack_seconds(g) for g in group_stacks(list(configs))), reverse=True)
    return makespan(times, jobs)


def makespan(times, workers: int) -> float:
    """Finishing time of ``times`` dealt in order to ``workers`` workers, each to the first free one."""
    import heapq
    free = [0.0] * max(1, int(workers))
    for t in times:
        heapq.heapreplace(free, free[0] + t)
    return max(free)


def cut_stacks(groups: list, workers: int) -> list:
    """The stacks, the longest cut in two (by configuration) until none is estimated to take longer
    than the whole work divided among ``workers``, longest first.

    A stack bounds the build from below (no worker can share one), so with many workers and few
    stacks the longest ones are the build's critical path. A configuration is never cut (its seeds'
    statistics and histograms are pooled in its stack); a member's numbers do not depend on which
    stack it trains in (tested to the bit), so cutting changes the schedule, never a result. Each
    extra stack repeats only the start-up of a stack (about ``A_SECONDS``). With the workers a
    build has locally (2 here) no stack of the built-in profiles is long enough to be cut.
    """
    groups = [list(g) for g in groups]
    if workers <= 1 or not groups:
        return sorted(groups, key=lambda g: -stack_seconds(g))
    target = sum(stack_seconds(g) for g in groups) / workers
    done, todo = [], groups
    while todo:
        g = todo.pop()
        if len(g) < 2 or stack_seconds(g) <= target:
            done.append(g)
            continue
        # Two halves of about equal estimated time, each configuration whole, in their order.
        costs = [stack_seconds([c]) for c in g]
        half, acc, k = sum(costs) / 2, 0.0, 0
        while k < len(g) - 1 and acc + costs[k] <= half:
            acc += costs[k]
            k += 1
        k = max(1, k)
        todo += [g[:k], g[k:]]
    return sorted(done, key=lambda g: -stack_seconds(g))

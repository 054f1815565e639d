"""Monte-Carlo diffusion kernels: Independent Cascade and Linear Threshold over CSR arrays.

Arrays and scalars in, arrays out. Randomness comes from a counter-based
splitmix64 stream keyed by ``(seed, simulation index)``, so a run gives the same
result whatever the number of threads and however the simulations are chunked.

Stream of one simulation (the naive references in ``tests/naive_diffusion.py``
follow it draw for draw):

* IC: breadth-first from the seeds (in the order given); when a node is
  processed, each out-arc ``u -> v`` in CSR order whose target is still
  inactive draws one uniform ``r`` and fires when ``r < p``.
* LT: the same traversal; the first time a node receives influence it draws
  its threshold ``1 - r`` (in ``(0, 1]``); it activates once the summed weight
  of its active in-neighbours reaches the threshold.

A node activated while nodes of round ``t`` are processed belongs to round
``t + 1`` (the seeds are round 0), which gives the time-stamped view.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

__all__ = ["ic_spread", "lt_spread", "mix64", "stream_key", "uniform"]

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_INV53 = 1.0 / 9007199254740992.0  # 2**-53


@njit(cache=True, inline="always")
def mix64(z: np.uint64) -> np.uint64:
    """The splitmix64 finaliser (a bijection of 64-bit words)."""
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(cache=True, inline="always")
def stream_key(seed: np.uint64, index: int) -> np.uint64:
    """The starting state of stream ``index`` under ``seed``."""
    return mix64(seed ^ mix64(np.uint64(index) + GOLDEN))


@njit(cache=True, inline="always")
def uniform(state: np.uint64) -> float:
    """A float in [0, 1) from a state that was just advanced by ``GOLDEN``."""
    return float(mix64(state) >> _S11) * _INV53


@njit(cache=True)
def _ic_one(
    indptr: np.ndarray,
    indices: np.ndarray,
    probs: np.ndarray,
    seeds: np.ndarray,
    state: np.uint64,
    stamp: np.ndarray,
    mark: int,
    queue: np.ndarray,
    level: np.ndarray,
    max_steps: int,
    record: np.ndarray,
) -> int:
    head = 0
    tail = 0
    for s in seeds:
        if stamp[s] != mark:
            stamp[s] = mark
            queue[tail] = s
            level[tail] = 0
            tail += 1
    n_record = record.shape[0]
    while head < tail:
        u = queue[head]
        t = level[head]
        head += 1
        if max_steps >= 0 and t >= max_steps:
            continue
        for e in range(indptr[u], indptr[u + 1]):
            v = indices[e]
            if stamp[v] == mark:
                continue
            state += GOLDEN
            if uniform(state) < probs[e]:
                stamp[v] = mark
                queue[tail] = v
                level[tail] = t + 1
                tail += 1
                if t < n_record:
                    record[t] += 1
    return tail


@njit(cache=True, parallel=True)
def ic_spread(
    indptr: np.ndarray,
    indices: np.ndarray,
    probs: np.ndarray,
    seeds: np.ndarray,
    runs: int,
    seed: np.uint64,
    max_steps: int,
    n_record: int,
    n_chunks: int,
    first: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Independent Cascade spreads of ``runs`` simulations from ``seeds``.

    Returns ``(spreads, new_by_step)``: the number of active nodes at the end of
    each run (int64, shape ``(runs,)``) and the new activations of rounds
    ``1 .. n_record`` (int64, shape ``(runs, n_record)``). ``max_steps < 0``
    runs to the end; otherwise the cascade stops after ``max_steps`` rounds.
    Run ``r`` draws from the stream ``stream_key(seed, first + r)``, so runs
    ``first .. first + runs - 1`` of a larger batch can be computed apart (on
    another machine) with the same results.
    """
    n = indptr.shape[0] - 1
    spreads = np.zeros(runs, dtype=np.int64)
    new_by_step = np.zeros((runs, n_record), dtype=np.int64)
    for c in prange(n_chunks):
        lo = runs * c // n_chunks
        hi = runs * (c + 1) // n_chunks
        stamp = np.zeros(n, dtype=np.int64)
        queue = np.empty(n, dtype=np.int64)
        level = np.empty(n, dtype=np.int64)
        for r in range(lo, hi):
            state = stream_key(seed, first + r)
            spreads[r] = _ic_one(
                indptr,
                indices,
                probs,
                seeds,
                state,
                stamp,
                r + 1,
                queue,
                level,
                max_steps,
                new_by_step[r],
            )
    return spreads, new_by_step


@njit(cache=True)
def _lt_one(
    indptr: np.ndarray,
    indices: np.ndarray,
    weights: np.ndarray,
    seeds: np.ndarray,
    state: np.uint64,
    active: np.ndarray,
    touched: np.ndarray,
    mark: int,
    acc: np.ndarray,
    theta: np.ndarray,
    queue: np.ndarray,
    level: np.ndarray,
    max_steps: int,
    record: np.ndarray,
) -> int:
    head = 0
    tail = 0
    for s in seeds:
        if active[s] != mark:
            active[s] = mark
            queue[tail] = s
            level[tail] = 0
            tail += 1
    n_record = record.shape[0]
    while head < tail:
        u = queue[head]
        t = level[head]
        head += 1
        if max_steps >= 0 and t >= max_steps:
            continue
        for e in range(indptr[u], indptr[u + 1]):
            v = indices[e]
            if active[v] == mark:
                continue
            if touched[v] != mark:
                touched[v] = mark
                state += GOLDEN
                theta[v] = 1.0 - uniform(state)
                acc[v] = 0.0
            acc[v] += weights[e]
            if acc[v] >= theta[v]:
                active[v] = mark
                queue[tail] = v
                level[tail] = t + 1
                tail += 1
                if t < n_record:
                    record[t] += 1
    return tail


@njit(cache=True, parallel=True)
def lt_spread(
    indptr: np.ndarray,
    indices: np.ndarray,
    weights: np.ndarray,
    seeds: np.ndarray,
    runs: int,
    seed: np.uint64,
    max_steps: int,
    n_record: int,
    n_chunks: int,
    first: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Linear Threshold spreads; same arguments and results as :func:`ic_spread`.

    ``weights`` are per-arc influence weights whose sum into any node is at most 1.
    """
    n = indptr.shape[0] - 1
    spreads = np.zeros(runs, dtype=np.int64)
    new_by_step = np.zeros((runs, n_record), dtype=np.int64)
    for c in prange(n_chunks):
        lo = runs * c // n_chunks
        hi = runs * (c + 1) // n_chunks
        active = np.zeros(n, dtype=np.int64)
        touched = np.zeros(n, dtype=np.int64)
        acc = np.zeros(n, dtype=np.float64)
        theta = np.zeros(n, dtype=np.float64)
        queue = np.empty(n, dtype=np.int64)
        level = np.empty(n, dtype=np.int64)
        for r in range(lo, hi):
            state = stream_key(seed, first + r)
            spreads[r] = _lt_one(
                indptr,
                indices,
                weights,
                seeds,
                state,
                active,
                touched,
                r + 1,
                acc,
                theta,
                queue,
                level,
                max_steps,
                new_by_step[r],
            )
    return spreads, new_by_step

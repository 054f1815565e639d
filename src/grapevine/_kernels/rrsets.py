"""Reverse-reachable (RR) sets and greedy maximum coverage, for IMM-class seed selection.

RR set ``i`` (a global index, so batches can be added later) uses the stream
``stream_key(seed, i)`` of :mod:`grapevine._kernels.diffusion`:

* the root is ``min(floor(r * n), n - 1)`` for the first draw ``r``;
* IC: breadth-first over in-arcs (in-CSR order); an in-arc ``u -> v`` whose
  source is not yet in the set draws ``r`` and is live when ``r < p``;
* LT: a reverse random walk; at node ``v`` one draw ``r`` picks the first
  in-arc whose running sum of weights exceeds ``r`` (none when ``r`` is past
  the total); the walk stops at a node already in the set.

Sets are stored flat: the nodes of set ``j`` are ``nodes[offsets[j]:offsets[j+1]]``.
Sampling runs twice over the same streams (sizes, then contents) so that the
parallel result is one flat array, identical for any number of threads.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from grapevine._kernels.diffusion import GOLDEN, stream_key, uniform

__all__ = ["greedy_cover", "inverted_index", "sample_rr_sets"]


@njit(cache=True)
def _rr_one(
    in_ptr: np.ndarray,
    in_src: np.ndarray,
    in_p: np.ndarray,
    lt: bool,
    state: np.uint64,
    stamp: np.ndarray,
    mark: int,
    out: np.ndarray,
) -> int:
    """Sample one RR set into ``out`` (length n); returns its size."""
    n = in_ptr.shape[0] - 1
    state += GOLDEN
    root = int(uniform(state) * n)
    if root >= n:
        root = n - 1
    stamp[root] = mark
    out[0] = root
    size = 1
    if lt:
        v = root
        while True:
            state += GOLDEN
            r = uniform(state)
            pick = -1
            total = 0.0
            for j in range(in_ptr[v], in_ptr[v + 1]):
                total += in_p[j]
                if r < total:
                    pick = in_src[j]
                    break
            if pick < 0 or stamp[pick] == mark:
                break
            stamp[pick] = mark
            out[size] = pick
            size += 1
            v = pick
        return size
    head = 0
    while head < size:
        v = out[head]
        head += 1
        for j in range(in_ptr[v], in_ptr[v + 1]):
            u = in_src[j]
            if stamp[u] == mark:
                continue
            state += GOLDEN
            if uniform(state) < in_p[j]:
                stamp[u] = mark
                out[size] = u
                size += 1
    return size


@njit(cache=True, parallel=True)
def _rr_pass(
    in_ptr: np.ndarray,
    in_src: np.ndarray,
    in_p: np.ndarray,
    lt: bool,
    seed: np.uint64,
    start: int,
    count: int,
    n_chunks: int,
    offsets: np.ndarray,
    nodes: np.ndarray,
    write: bool,
) -> None:
    n = in_ptr.shape[0] - 1
    for c in prange(n_chunks):
        lo = count * c // n_chunks
        hi = count * (c + 1) // n_chunks
        stamp = np.zeros(n, dtype=np.int64)
        buf = np.empty(n, dtype=np.int32)
        for i in range(lo, hi):
            size = _rr_one(in_ptr, in_src, in_p, lt, stream_key(seed, start + i), stamp, i + 1, buf)
            if write:
                base = offsets[i]
                for j in range(size):
                    nodes[base + j] = buf[j]
            else:
                offsets[i + 1] = size


@njit(cache=True)
def _prefix_sum(offsets: np.ndarray) -> None:
    for i in range(1, offsets.shape[0]):
        offsets[i] += offsets[i - 1]


def sample_rr_sets(
    in_ptr: np.ndarray,
    in_src: np.ndarray,
    in_p: np.ndarray,
    lt: bool,
    seed: int,
    start: int,
    count: int,
    n_chunks: int,
) -> tuple[np.ndarray, np.ndarray]:
    """RR sets ``start .. start + count - 1`` as ``(offsets int64, nodes int32)``.

    ``in_p`` holds the probability (IC) or weight (LT) of each in-arc, aligned
    with ``in_src``.
    """
    offsets = np.zeros(count + 1, dtype=np.int64)
    empty = np.empty(0, dtype=np.int32)
    chunks = max(1, min(n_chunks, count))
    s = np.uint64(seed)
    _rr_pass(in_ptr, in_src, in_p, lt, s, start, count, chunks, offsets, empty, False)
    _prefix_sum(offsets)
    nodes = np.empty(int(offsets[-1]), dtype=np.int32)
    _rr_pass(in_ptr, in_src, in_p, lt, s, start, count, chunks, offsets, nodes, True)
    return offsets, nodes


@njit(cache=True)
def inverted_index(offsets: np.ndarray, nodes: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """For each node, the RR sets that contain it: ``(ptr int64 (n+1,), sets int64)``."""
    ptr = np.zeros(n + 1, dtype=np.int64)
    for x in nodes:
        ptr[x + 1] += 1
    for v in range(n):
        ptr[v + 1] += ptr[v]
    fill = ptr[:-1].copy()
    sets = np.empty(nodes.shape[0], dtype=np.int64)
    for j in range(offsets.shape[0] - 1):
        for i in range(offsets[j], offsets[j + 1]):
            v = nodes[i]
            sets[fill[v]] = j
            fill[v] += 1
    return ptr, sets


@njit(cache=True)
def greedy_cover(
    offsets: np.ndarray, nodes: np.ndarray, n: int, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Greedy maximum coverage of the RR sets by ``k`` nodes.

    Keeps for every node the number of still-uncovered sets containing it and
    lowers it exactly when a set becomes covered (each set is covered once, so
    the updates cost O(total size)); the pick is an argmax (ties: lowest node).
    Returns ``(seeds int64 (k,), marginal int64 (k,))``: the nodes in pick order
    and the number of sets each newly covered.
    """
    ptr, sets = inverted_index(offsets, nodes, n)
    degree = np.empty(n, dtype=np.int64)
    for v in range(n):
        degree[v] = ptr[v + 1] - ptr[v]
    covered = np.zeros(offsets.shape[0] - 1, dtype=np.bool_)
    chosen = np.zeros(n, dtype=np.bool_)
    seeds = np.empty(k, dtype=np.int64)
    marginal = np.zeros(k, dtype=np.int64)
    for step in range(k):
        best = -1
        best_deg = -1
        for v in range(n):
            if not chosen[v] and degree[v] > best_deg:
                best = v
                best_deg = degree[v]
        chosen[best] = True
        seeds[step] = best
        marginal[step] = best_deg
        for i in range(ptr[best], ptr[best + 1]):
            j = sets[i]
            if covered[j]:
                continue
            covered[j] = True
            for t in range(offsets[j], offsets[j + 1]):
                degree[nodes[t]] -= 1
    return seeds, marginal

"""Greedy maximum coverage over RR sets with OPIM-C's upper bound, and coverage counts.

The RR sets come flat (``offsets``, ``nodes``; see :mod:`grapevine._kernels.rrsets`).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from grapevine._kernels.rrsets import inverted_index

__all__ = ["count_covered", "greedy_cover_bound"]


@njit(cache=True)
def _sift_down(heap: np.ndarray, size: int) -> None:
    i = 0
    while True:
        left = 2 * i + 1
        if left >= size:
            return
        small = left
        right = left + 1
        if right < size and heap[right] < heap[left]:
            small = right
        if heap[small] >= heap[i]:
            return
        heap[i], heap[small] = heap[small], heap[i]
        i = small


@njit(cache=True)
def _sift_up(heap: np.ndarray, i: int) -> None:
    while i > 0:
        parent = (i - 1) >> 1
        if heap[parent] <= heap[i]:
            return
        heap[i], heap[parent] = heap[parent], heap[i]
        i = parent


@njit(cache=True)
def _scan(degree: np.ndarray, chosen: np.ndarray, k: int, heap: np.ndarray) -> tuple[int, int, int]:
    """One pass: the unchosen node of largest degree (lowest on ties), its degree, and
    the sum of the ``k`` largest degrees among the unchosen nodes."""
    best = -1
    best_deg = -1
    size = 0
    for v in range(degree.shape[0]):
        if chosen[v]:
            continue
        d = degree[v]
        if d > best_deg:
            best = v
            best_deg = d
        if d <= 0:
            continue
        if size < k:
            heap[size] = d
            _sift_up(heap, size)
            size += 1
        elif d > heap[0]:
            heap[0] = d
            _sift_down(heap, size)
    top = 0
    for i in range(size):
        top += heap[i]
    return best, best_deg, top


@njit(cache=True)
def greedy_cover_bound(
    offsets: np.ndarray, nodes: np.ndarray, n: int, k: int
) -> tuple[np.ndarray, np.ndarray, int]:
    """Greedy maximum coverage by ``k`` nodes and an upper bound on the best coverage.

    Same picks as :func:`grapevine._kernels.rrsets.greedy_cover` (argmax of the
    uncovered-set counts, lowest node on ties; counts lowered once per newly
    covered set). Before each pick ``i`` and after the last, submodularity gives
    ``OPT <= Lambda(S_i) + (sum of the k largest marginal coverages)`` (Tang et
    al. 2018, OPIM-C); the bound returned is the smallest of these.

    Returns ``(seeds int64 (k,), marginal int64 (k,), upper)``. Cost
    ``O(total size + k n log k)`` in the worst case, ``O(total size + k n)`` in practice.
    """
    ptr, sets = inverted_index(offsets, nodes, n)
    degree = np.empty(n, dtype=np.int64)
    for v in range(n):
        degree[v] = ptr[v + 1] - ptr[v]
    covered = np.zeros(offsets.shape[0] - 1, dtype=np.bool_)
    chosen = np.zeros(n, dtype=np.bool_)
    seeds = np.empty(k, dtype=np.int64)
    marginal = np.zeros(k, dtype=np.int64)
    heap = np.empty(max(k, 1), dtype=np.int64)
    total = 0
    upper = np.iinfo(np.int64).max
    for step in range(k + 1):
        if step == k and k >= n:
            upper = min(upper, total)
            break
        best, best_deg, top = _scan(degree, chosen, k, heap)
        upper = min(upper, total + top)
        if step == k:
            break
        chosen[best] = True
        seeds[step] = best
        marginal[step] = best_deg
        total += best_deg
        for i in range(ptr[best], ptr[best + 1]):
            j = sets[i]
            if covered[j]:
                continue
            covered[j] = True
            for t in range(offsets[j], offsets[j + 1]):
                degree[nodes[t]] -= 1
    return seeds, marginal, upper


@njit(cache=True)
def count_covered(offsets: np.ndarray, nodes: np.ndarray, n: int, seeds: np.ndarray) -> int:
    """Number of RR sets holding at least one of ``seeds`` (node numbers)."""
    mark = np.zeros(n, dtype=np.bool_)
    for s in seeds:
        mark[s] = True
    hit = 0
    for j in range(offsets.shape[0] - 1):
        for t in range(offsets[j], offsets[j + 1]):
            if mark[nodes[t]]:
                hit += 1
                break
    return hit

"""Greedy maximum coverage over RR sets with OPIM-C's upper bound, and coverage counts.

The RR sets come flat (``offsets``, ``nodes``; see :mod:`grapevine._kernels.rrsets`).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from grapevine._kernels.rrsets import cover_sets, inverted_index

__all__ = ["HEAP_COST", "count_covered", "greedy_cover_bound"]


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
def _above(hd: np.ndarray, hn: np.ndarray, a: int, b: int) -> bool:
    """Heap order: larger stored degree first, then the lower node."""
    return bool(hd[a] > hd[b] or (hd[a] == hd[b] and hn[a] < hn[b]))


@njit(cache=True)
def _swap(hd: np.ndarray, hn: np.ndarray, a: int, b: int) -> None:
    hd[a], hd[b] = hd[b], hd[a]
    hn[a], hn[b] = hn[b], hn[a]


@njit(cache=True)
def _down(hd: np.ndarray, hn: np.ndarray, i: int, size: int) -> None:
    while True:
        top = i
        left = 2 * i + 1
        if left < size and _above(hd, hn, left, top):
            top = left
        if left + 1 < size and _above(hd, hn, left + 1, top):
            top = left + 1
        if top == i:
            return
        _swap(hd, hn, i, top)
        i = top


@njit(cache=True)
def _up(hd: np.ndarray, hn: np.ndarray, i: int) -> None:
    while i > 0:
        parent = (i - 1) >> 1
        if not _above(hd, hn, i, parent):
            return
        _swap(hd, hn, i, parent)
        i = parent


@njit(cache=True)
def _pop_fresh(hd: np.ndarray, hn: np.ndarray, size: int, degree: np.ndarray) -> int:
    """Refresh stale roots until the root's stored degree is current; return the new size
    after removing it (its node and degree are left at ``hn[size]``, ``hd[size]``).

    Stored degrees only ever overstate (degrees never rise), so a fresh root is the
    unchosen node of largest current degree, lowest node on ties (CELF's lazy rule).
    """
    while degree[hn[0]] != hd[0]:
        hd[0] = degree[hn[0]]
        _down(hd, hn, 0, size)
    size -= 1
    _swap(hd, hn, 0, size)
    _down(hd, hn, 0, size)
    return size


#: The lazy heap picks when ``k log2(n) HEAP_COST < n``, the scan otherwise (measured on
#: NetHEPT, Epinions and NetPHY, 32,768 and 262,144 RR sets: the heap is 3x faster at
#: k = 50 on Epinions, the scan up to 3x faster at k = 500).
HEAP_COST = 30.0


@njit(cache=True)
def _greedy_scan(
    ptr: np.ndarray,
    sets: np.ndarray,
    offsets: np.ndarray,
    nodes: np.ndarray,
    degree: np.ndarray,
    k: int,
    seeds: np.ndarray,
    marginal: np.ndarray,
) -> int:
    """Greedy with one pass over all nodes per pick (argmax and the top-``k`` sum)."""
    n = degree.shape[0]
    covered = np.zeros(offsets.shape[0] - 1, dtype=np.bool_)
    chosen = np.zeros(n, dtype=np.bool_)
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
        cover_sets(best, ptr, sets, offsets, nodes, covered, degree)
    return upper


@njit(cache=True)
def _greedy_heap(
    ptr: np.ndarray,
    sets: np.ndarray,
    offsets: np.ndarray,
    nodes: np.ndarray,
    degree: np.ndarray,
    k: int,
    seeds: np.ndarray,
    marginal: np.ndarray,
) -> int:
    """Greedy with a lazy max-heap: each pick pops the ``k`` best (refreshing stale
    entries), takes the first, sums all ``k`` for the bound and pushes the rest back."""
    n = degree.shape[0]
    hd = degree.copy()
    hn = np.arange(n).astype(np.int64)
    for i in range((n >> 1) - 1, -1, -1):
        _down(hd, hn, i, n)
    size = n
    covered = np.zeros(offsets.shape[0] - 1, dtype=np.bool_)
    total = 0
    upper = np.iinfo(np.int64).max
    for step in range(k + 1):
        held = min(k, size)
        top = 0
        for _ in range(held):
            size = _pop_fresh(hd, hn, size, degree)
            top += hd[size]
        upper = min(upper, total + top)
        if step == k or held == 0:
            break
        # the popped nodes sit at hn[size : size + held], the best (popped first) last
        best = hn[size + held - 1]
        best_deg = hd[size + held - 1]
        for _ in range(held - 1):
            _up(hd, hn, size)
            size += 1
        seeds[step] = best
        marginal[step] = best_deg
        total += best_deg
        cover_sets(best, ptr, sets, offsets, nodes, covered, degree)
    return upper


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

    Two ways to find the pick and the ``k`` largest counts, with the same results:
    a pass over all nodes per pick (``O(k n)``), or a lazy max-heap keyed by the
    counts as last seen (counts only fall, so popping the root and refreshing it
    when stale yields the nodes in the exact order of their current counts, CELF's
    rule; ``O(n + (k^2 + refreshes) log n)``). The heap is used when
    ``k log2(n) HEAP_COST < n``.

    Returns ``(seeds int64 (k,), marginal int64 (k,), upper)``; cost
    ``O(total size)`` besides the above.
    """
    ptr, sets = inverted_index(offsets, nodes, n)
    degree = np.empty(n, dtype=np.int64)
    for v in range(n):
        degree[v] = ptr[v + 1] - ptr[v]
    seeds = np.empty(k, dtype=np.int64)
    marginal = np.zeros(k, dtype=np.int64)
    if k * np.log2(max(n, 2)) * HEAP_COST < n:
        upper = _greedy_heap(ptr, sets, offsets, nodes, degree, k, seeds, marginal)
    else:
        upper = _greedy_scan(ptr, sets, offsets, nodes, degree, k, seeds, marginal)
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

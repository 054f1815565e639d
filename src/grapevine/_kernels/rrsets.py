"""Reverse-reachable (RR) sets and greedy maximum coverage, for IMM-class seed selection.

RR set ``i`` (a global index, so batches can be added later) uses the stream
``stream_key(seed, i)`` of :mod:`grapevine._kernels.diffusion`:

* the root is ``min(floor(r * n), n - 1)`` for the first draw ``r``;
* IC: breadth-first over in-arcs (in-CSR order). At a node whose in-arcs are
  not all of one probability (or that has a single in-arc), every in-arc
  ``u -> v`` whose source is not yet in the set draws ``r`` and is live when
  ``r < p``. At a node with two or more in-arcs all of one probability
  ``0 < p < 1`` (weighted cascade, uniform p) the live in-arcs are found by
  **subset sampling** (geometric skipping, SUBSIM, Guo et al. SIGMOD 2020):
  from position ``j = -1`` each draw ``r`` jumps to
  ``j + 1 + floor(ln(1 - r) / ln(1 - p))`` until it passes the last in-arc; the
  arcs landed on are live (their source joins the set unless already in it).
  A node then costs ``O(1 + p d)`` draws instead of ``d``;
* LT: a reverse random walk; at node ``v`` one draw ``r`` picks the first
  in-arc whose running sum of weights exceeds ``r`` (none when ``r`` is past
  the total), found by binary search over the running sums; the walk stops at
  a node already in the set.

Sets are stored flat: the nodes of set ``j`` are ``nodes[offsets[j]:offsets[j+1]]``.
Sampling runs in parallel chunks of consecutive set indices; each chunk writes
into its own slice of a buffer (a chunk that runs out of room stops at a set
boundary and resumes in the next round), and the slices are joined in index
order, so the result is identical for any number of threads or chunks.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from grapevine._kernels.diffusion import GOLDEN, stream_key, uniform

__all__ = ["cover_sets", "greedy_cover", "inverted_index", "rr_aux", "sample_rr_sets"]


@njit(cache=True)
def rr_aux(in_ptr: np.ndarray, in_p: np.ndarray, lt: bool) -> np.ndarray:
    """Per-graph tables of the sampler.

    IC: ``ln(1 - p)`` per node whose two or more in-arcs share one probability
    ``0 < p < 1`` (subset sampling), ``1.0`` for the others (arc by arc).
    LT: the running sum of the in-arc weights of each node, per in-arc.
    """
    n = in_ptr.shape[0] - 1
    if lt:
        cum = np.empty(in_p.shape[0], dtype=np.float64)
        for v in range(n):
            total = 0.0
            for j in range(in_ptr[v], in_ptr[v + 1]):
                total += in_p[j]
                cum[j] = total
        return cum
    logq = np.ones(n, dtype=np.float64)
    for v in range(n):
        a = in_ptr[v]
        b = in_ptr[v + 1]
        if b - a < 2:
            continue
        p = in_p[a]
        if not (p > 0.0 and p < 1.0):
            continue
        same = True
        for j in range(a + 1, b):
            if in_p[j] != p:
                same = False
                break
        if same:
            logq[v] = math.log(1.0 - p)
    return logq


@njit(cache=True)
def _rr_one(
    in_ptr: np.ndarray,
    in_src: np.ndarray,
    in_p: np.ndarray,
    aux: np.ndarray,
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
            lo = in_ptr[v]
            hi = in_ptr[v + 1]
            if lo == hi or r >= aux[hi - 1]:
                break
            # first j in [lo, hi) with r < cum[j]
            while lo < hi:
                mid = (lo + hi) >> 1
                if r < aux[mid]:
                    hi = mid
                else:
                    lo = mid + 1
            pick = in_src[lo]
            if stamp[pick] == mark:
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
        a = in_ptr[v]
        b = in_ptr[v + 1]
        lq = aux[v]
        if lq < 0.0:
            j = a - 1
            while True:
                state += GOLDEN
                skip = math.log(1.0 - uniform(state)) / lq
                if skip >= b - 1 - j:
                    break
                j += 1 + int(skip)
                u = in_src[j]
                if stamp[u] != mark:
                    stamp[u] = mark
                    out[size] = u
                    size += 1
            continue
        for j in range(a, b):
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
def _rr_fill(
    in_ptr: np.ndarray,
    in_src: np.ndarray,
    in_p: np.ndarray,
    aux: np.ndarray,
    lt: bool,
    seed: np.uint64,
    start: int,
    lo: np.ndarray,
    hi: np.ndarray,
    sizes: np.ndarray,
    buf: np.ndarray,
    cap: int,
    used: np.ndarray,
) -> None:
    """Chunk ``c`` samples sets ``lo[c] ..`` into ``buf[c*cap : (c+1)*cap]`` while they fit."""
    n = in_ptr.shape[0] - 1
    for c in prange(lo.shape[0]):
        if lo[c] >= hi[c]:
            continue
        stamp = np.zeros(n, dtype=np.int32)
        scratch = np.empty(n, dtype=np.int32)
        base = c * cap
        pos = 0
        i = lo[c]
        mark = 0
        while i < hi[c]:
            mark += 1
            size = _rr_one(
                in_ptr, in_src, in_p, aux, lt, stream_key(seed, start + i), stamp, mark, scratch
            )
            if pos + size > cap:
                break
            for j in range(size):
                buf[base + pos + j] = scratch[j]
            pos += size
            sizes[i] = size
            i += 1
        lo[c] = i
        used[c] = pos


def sample_rr_sets(
    in_ptr: np.ndarray,
    in_src: np.ndarray,
    in_p: np.ndarray,
    lt: bool,
    seed: int,
    start: int,
    count: int,
    n_chunks: int,
    aux: np.ndarray | None = None,
    mean_size: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """RR sets ``start .. start + count - 1`` as ``(offsets int64, nodes int32)``.

    ``in_p`` holds the probability (IC) or weight (LT) of each in-arc, aligned
    with ``in_src``; ``aux`` is :func:`rr_aux` of them (computed when omitted);
    ``mean_size`` (the mean set size seen so far, if known) sizes the buffers.
    """
    n = in_ptr.shape[0] - 1
    if aux is None:
        aux = rr_aux(in_ptr, in_p, lt)
    chunks = max(1, min(n_chunks, count))
    bounds = count * np.arange(chunks + 1, dtype=np.int64) // chunks
    lo = bounds[:-1].copy()
    hi = bounds[1:].copy()
    sizes = np.zeros(count, dtype=np.int64)
    per = -(-count // chunks)
    guess = mean_size if mean_size > 0 else 4.0
    cap = int(per * guess * 1.1) + min(n, 1 << 16) + 16
    pieces: list[list[np.ndarray]] = [[] for _ in range(chunks)]
    s = np.uint64(seed)
    while bool(np.any(lo < hi)):
        buf = np.empty(chunks * cap, dtype=np.int32)
        used = np.zeros(chunks, dtype=np.int64)
        _rr_fill(in_ptr, in_src, in_p, aux, lt, s, start, lo, hi, sizes, buf, cap, used)
        for c in range(chunks):
            if used[c]:
                pieces[c].append(buf[c * cap : c * cap + used[c]])
        cap = max(2 * cap, n + 16)
    offsets = np.zeros(count + 1, dtype=np.int64)
    np.cumsum(sizes, out=offsets[1:])
    flat = [p for chunk in pieces for p in chunk]
    nodes = np.concatenate(flat) if flat else np.empty(0, dtype=np.int32)
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
def cover_sets(
    best: int,
    ptr: np.ndarray,
    sets: np.ndarray,
    offsets: np.ndarray,
    nodes: np.ndarray,
    covered: np.ndarray,
    degree: np.ndarray,
) -> None:
    """Mark the sets holding ``best`` covered (``ptr``, ``sets``: :func:`inverted_index`),
    lowering by one, once per newly covered set, the count of each node in it."""
    for i in range(ptr[best], ptr[best + 1]):
        j = sets[i]
        if covered[j]:
            continue
        covered[j] = True
        for t in range(offsets[j], offsets[j + 1]):
            degree[nodes[t]] -= 1


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
        cover_sets(best, ptr, sets, offsets, nodes, covered, degree)
    return seeds, marginal

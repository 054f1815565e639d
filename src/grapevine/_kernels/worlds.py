"""Live-edge worlds: sampled once, shared by every spread estimate of a greedy run.

Kempe, Kleinberg and Tardos (KDD 2003) showed that both models are
distributions over *live-edge worlds*: under Independent Cascade each arc is
live with its probability; under Linear Threshold each node keeps at most one
in-arc, arc ``u -> v`` with probability ``w(u, v)``. The spread of ``S`` is the
expected number of nodes reachable from ``S`` over live arcs. Estimating every
spread on the same ``runs`` worlds (common random numbers) makes the estimate a
coverage function, so it is exactly monotone and submodular and lazy greedy
(CELF) picks what plain greedy picks.

World ``r`` draws from ``stream_key(seed, r)`` of :mod:`grapevine._kernels.diffusion`:
IC one draw per arc in CSR order (live when ``r < p``); LT one draw per node
``v = 0 .. n-1`` picking the first in-arc (in-CSR order) whose running sum of
weights exceeds it.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from grapevine._kernels.diffusion import GOLDEN, stream_key, uniform

__all__ = ["live_edge_worlds", "world_reach"]


@njit(cache=True, parallel=True)
def live_edge_worlds(
    in_ptr: np.ndarray,
    in_eid: np.ndarray,
    w: np.ndarray,
    lt: bool,
    seed: np.uint64,
    runs: int,
) -> np.ndarray:
    """Live arcs of ``runs`` worlds: uint8 array ``(runs, m)`` aligned with the out-CSR arcs.

    ``in_eid`` gives the out-CSR position of each in-arc (``Graph.transpose``).
    """
    m = w.shape[0]
    n = in_ptr.shape[0] - 1
    live = np.zeros((runs, m), dtype=np.uint8)
    for r in prange(runs):
        state = stream_key(seed, r)
        if lt:
            for v in range(n):
                state += GOLDEN
                x = uniform(state)
                total = 0.0
                for j in range(in_ptr[v], in_ptr[v + 1]):
                    total += w[in_eid[j]]
                    if x < total:
                        live[r, in_eid[j]] = 1
                        break
        else:
            for e in range(m):
                state += GOLDEN
                if uniform(state) < w[e]:
                    live[r, e] = 1
    return live


@njit(cache=True, parallel=True)
def world_reach(
    indptr: np.ndarray,
    indices: np.ndarray,
    live: np.ndarray,
    reached: np.ndarray,
    v: int,
    commit: bool,
) -> int:
    """Nodes newly reached from ``v`` over live arcs, summed over the worlds.

    ``reached`` (bool ``(runs, n)``) marks what the current seeds already reach;
    with ``commit`` the new nodes are marked there too (``v`` joins the seeds).
    """
    runs = live.shape[0]
    n = indptr.shape[0] - 1
    counts = np.zeros(runs, dtype=np.int64)
    for r in prange(runs):
        if reached[r, v]:
            continue
        seen = reached[r] if commit else reached[r].copy()
        queue = np.empty(n, dtype=np.int64)
        seen[v] = True
        queue[0] = v
        head = 0
        tail = 1
        while head < tail:
            u = queue[head]
            head += 1
            for e in range(indptr[u], indptr[u + 1]):
                x = indices[e]
                if live[r, e] and not seen[x]:
                    seen[x] = True
                    queue[tail] = x
                    tail += 1
        counts[r] = tail
    return int(counts.sum())

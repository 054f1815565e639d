"""Slow, obvious references for the diffusion and RR-set kernels.

Plain Python over lists of arcs. The Monte-Carlo references draw from the same
splitmix64 counter stream as the kernels (documented in
``grapevine._kernels.diffusion``), so they must agree run for run; the exact
references enumerate every live-edge world of a tiny graph.
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from collections.abc import Sequence

MASK = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15

Arc = tuple[int, int]


def mix64(z: int) -> int:
    z &= MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


class Stream:
    """The counter stream ``stream_key(seed, index)`` of the kernels."""

    def __init__(self, seed: int, index: int) -> None:
        self.state = mix64(seed ^ mix64(index + GOLDEN))

    def uniform(self) -> float:
        self.state = (self.state + GOLDEN) & MASK
        return (mix64(self.state) >> 11) / 2.0**53


def out_lists(n: int, arcs: Sequence[Arc], p: Sequence[float]) -> list[list[tuple[int, float]]]:
    """Out-arcs of each node in CSR order (arcs sorted by source, then input order)."""
    out: list[list[tuple[int, float]]] = [[] for _ in range(n)]
    for (u, v), w in zip(arcs, p, strict=True):
        out[u].append((v, w))
    return out


def in_lists(n: int, arcs: Sequence[Arc], p: Sequence[float]) -> list[list[tuple[int, float]]]:
    """In-arcs of each node, ordered by the arc's position in ``arcs`` (the in-CSR order)."""
    inn: list[list[tuple[int, float]]] = [[] for _ in range(n)]
    for (u, v), w in zip(arcs, p, strict=True):
        inn[v].append((u, w))
    return inn


def _unique(seeds: Sequence[int]) -> list[int]:
    return list(dict.fromkeys(seeds))


def ic_run(n, arcs, p, seeds, seed, run, max_steps=-1, n_record=0):
    """One IC simulation: ``(spread, new activations per round 1..n_record)``."""
    out = out_lists(n, arcs, p)
    rng = Stream(seed, run)
    active = set()
    queue: deque[tuple[int, int]] = deque()
    for s in _unique(seeds):
        active.add(s)
        queue.append((s, 0))
    record = [0] * n_record
    while queue:
        u, t = queue.popleft()
        if max_steps >= 0 and t >= max_steps:
            continue
        for v, w in out[u]:
            if v in active:
                continue
            if rng.uniform() < w:
                active.add(v)
                queue.append((v, t + 1))
                if t < n_record:
                    record[t] += 1
    return len(active), record


def lt_run(n, arcs, w, seeds, seed, run, max_steps=-1, n_record=0):
    """One LT simulation (thresholds drawn when a node is first influenced)."""
    out = out_lists(n, arcs, w)
    rng = Stream(seed, run)
    active = set()
    theta: dict[int, float] = {}
    acc: dict[int, float] = {}
    queue: deque[tuple[int, int]] = deque()
    for s in _unique(seeds):
        active.add(s)
        queue.append((s, 0))
    record = [0] * n_record
    while queue:
        u, t = queue.popleft()
        if max_steps >= 0 and t >= max_steps:
            continue
        for v, x in out[u]:
            if v in active:
                continue
            if v not in theta:
                theta[v] = 1.0 - rng.uniform()
                acc[v] = 0.0
            acc[v] += x
            if acc[v] >= theta[v]:
                active.add(v)
                queue.append((v, t + 1))
                if t < n_record:
                    record[t] += 1
    return len(active), record


def rr_set(n, arcs, p, lt, seed, index):
    """RR set ``index`` as a list of nodes in discovery order.

    IC nodes with two or more in-arcs of one probability ``0 < p < 1`` use subset
    sampling (geometric gaps between live in-arcs), the others one draw per arc.
    """
    inn = in_lists(n, arcs, p)
    rng = Stream(seed, index)
    root = min(int(rng.uniform() * n), n - 1)
    found = [root]
    seen = {root}
    if lt:
        v = root
        while True:
            r = rng.uniform()
            total = 0.0
            pick = None
            for u, w in inn[v]:
                total += w
                if r < total:
                    pick = u
                    break
            if pick is None or pick in seen:
                return found
            seen.add(pick)
            found.append(pick)
            v = pick
    head = 0
    while head < len(found):
        v = found[head]
        head += 1
        probs = {w for _, w in inn[v]}
        if len(inn[v]) >= 2 and len(probs) == 1 and 0.0 < next(iter(probs)) < 1.0:
            # subset sampling: jump straight to the next live in-arc (geometric gaps)
            log_q = math.log(1.0 - next(iter(probs)))
            j = -1
            while True:
                gap = math.log(1.0 - rng.uniform()) / log_q
                if gap >= len(inn[v]) - 1 - j:
                    break
                j += 1 + int(gap)
                u = inn[v][j][0]
                if u not in seen:
                    seen.add(u)
                    found.append(u)
            continue
        for u, w in inn[v]:
            if u in seen:
                continue
            if rng.uniform() < w:
                seen.add(u)
                found.append(u)
    return found


def _reach(n: int, live: Sequence[Arc], seeds: Sequence[int]) -> int:
    out: list[list[int]] = [[] for _ in range(n)]
    for u, v in live:
        out[u].append(v)
    seen = set(seeds)
    stack = list(seen)
    while stack:
        u = stack.pop()
        for v in out[u]:
            if v not in seen:
                seen.add(v)
                stack.append(v)
    return len(seen)


def exact_ic(n: int, arcs: Sequence[Arc], p: Sequence[float], seeds: Sequence[int]) -> float:
    """Expected IC spread by enumerating all ``2**m`` live-edge worlds."""
    total = 0.0
    for world in itertools.product((False, True), repeat=len(arcs)):
        prob = math.prod(q if live else 1.0 - q for q, live in zip(p, world, strict=True))
        if prob:
            live_arcs = [a for a, keep in zip(arcs, world, strict=True) if keep]
            total += prob * _reach(n, live_arcs, seeds)
    return total


def exact_lt(n: int, arcs: Sequence[Arc], w: Sequence[float], seeds: Sequence[int]) -> float:
    """Expected LT spread: every node keeps at most one in-arc (with its weight)."""
    choices = []
    for v in range(n):
        opts = [(i, w[i]) for i, (_, t) in enumerate(arcs) if t == v]
        rest = 1.0 - sum(x for _, x in opts)
        choices.append([*opts, (None, max(rest, 0.0))])
    total = 0.0
    for pick in itertools.product(*choices):
        prob = math.prod(x for _, x in pick)
        if prob:
            live = [arcs[i] for i, _ in pick if i is not None]
            total += prob * _reach(n, live, seeds)
    return total


def coverage(rr_sets: Sequence[Sequence[int]], seeds: Sequence[int]) -> int:
    """Number of RR sets that contain at least one seed."""
    s = set(seeds)
    return sum(1 for r in rr_sets if s.intersection(r))


def greedy_cover(rr_sets: Sequence[Sequence[int]], n: int, k: int) -> list[int]:
    """Plain greedy max coverage (ties: lowest node)."""
    chosen: list[int] = []
    for _ in range(k):
        base = coverage(rr_sets, chosen)
        gains = [(coverage(rr_sets, [*chosen, v]) - base, -v) for v in range(n) if v not in chosen]
        chosen.append(-max(gains)[1])
    return chosen


def greedy_upper_bound(rr_sets: Sequence[Sequence[int]], n: int, k: int) -> int:
    """OPIM-C's bound on the best coverage by ``k`` nodes from plain greedy.

    The least, over the greedy prefixes ``S_i`` (i = 0..k), of the coverage of
    ``S_i`` plus the ``k`` largest marginal coverages of the other nodes.
    """
    chosen = greedy_cover(rr_sets, n, k)
    best = None
    for i in range(k + 1):
        prefix = chosen[:i]
        base = coverage(rr_sets, prefix)
        gains = sorted(
            (coverage(rr_sets, [*prefix, v]) - base for v in range(n) if v not in prefix),
            reverse=True,
        )
        value = base + sum(gains[:k])
        best = value if best is None else min(best, value)
    assert best is not None
    return best


def best_coverage(rr_sets: Sequence[Sequence[int]], n: int, k: int) -> int:
    """The best coverage by any ``k`` nodes, by enumeration."""
    return max(coverage(rr_sets, list(s)) for s in itertools.combinations(range(n), k))

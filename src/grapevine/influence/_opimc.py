"""OPIM-C: seeds with an a-posteriori certified ratio (Tang, Tang, Xiao, Yuan, SIGMOD 2018)."""

from __future__ import annotations

import math
import numbers
import time
from typing import Any

import numpy as np

from grapevine._distributed import check_client
from grapevine._validation import check_number
from grapevine.diffusion._edges import model_weights, resolve_seed
from grapevine.errors import InvalidParameter
from grapevine.graph import Graph
from grapevine.influence._imm import _check_sampling, _log_comb, _Pool, certify

__all__ = ["ADAPTIVE_CAP", "MAX_JUMP", "OPIMC", "OPIMC_MIN_RR_SETS", "OVERFIT_TOL", "opimc"]

#: Default floor on the RR sets of each of OPIM-C's two collections. The bounds
#: alone stop after a few thousand sets at ``epsilon = 0.5`` (a quarter of the
#: spread lost, as an outside run of the reference C++ code found); see also
#: :data:`OVERFIT_TOL`.
OPIMC_MIN_RR_SETS = 32_768

#: Default tolerance of the adaptive stopping rule: OPIM-C grows its collections
#: until the greedy seeds' coverage of the selection collection ``R1`` exceeds their
#: coverage of the independent validation collection ``R2`` by at most this
#: fraction, **and** that excess can be told from noise: its standard deviation
#: ``sqrt(1/Lambda_1 + 1/Lambda_2)`` is at most this fraction too (at 1.5%, about
#: 8,900 covered sets in each collection). The excess measures how much greedy
#: overfits ``R1``: a large one means that seeds were chosen on sets they cover by
#: luck. Without the noise condition a graph whose seeds cover few sets (a 1M-node
#: power-law graph, 5,500 of 65,536) stopped with seeds 1.2% worse than PageRank's.
OVERFIT_TOL = 0.015

#: The adaptive rule may grow each collection up to this many times the floor
#: (8,388,608 sets by default) even past the paper's ``theta_max``. Settings
#: with little spread (IC with ``p = 0.01``: a seed set covers under 1% of the RR
#: sets) need millions of sets before greedy stops overfitting them.
ADAPTIVE_CAP = 256

_GREEDY = 1.0 - 1.0 / math.e

#: The adaptive rule jumps at most this many times the current size at once.
MAX_JUMP = 16


def _needed(theta: int, cov1: int, cov2: int, tol: float) -> float:
    """Collection size the adaptive rule asks for, from one round at ``theta`` sets.

    ``theta`` itself when the overfit ``cov1 / cov2 - 1`` is at most ``tol`` and can be
    told from noise (its standard deviation ``sqrt(1/cov1 + 1/cov2)`` is at most
    ``tol``); otherwise a larger size, predicted from coverage growing in proportion
    to the sets and the overfit shrinking in proportion to ``1/theta`` (as measured on
    NetHEPT and Epinions), at most :data:`MAX_JUMP` times ``theta``.
    """
    if not math.isfinite(tol):
        return float(theta)
    if cov2 == 0 or tol <= 0:  # nothing to measure, or no overfit allowed: grow to the end
        return float(MAX_JUMP * theta)
    noise = math.sqrt(1.0 / max(cov1, 1) + 1.0 / cov2)
    gap = cov1 / cov2 - 1.0
    need = float(theta)
    if noise > tol:
        need = max(need, theta * (noise / tol) ** 2)
    if gap > tol:
        need = max(need, theta * gap / tol)
    return min(need, float(MAX_JUMP * theta))


class OPIMC:
    """Seed selection by OPIM-C: a ``(1 - 1/e - epsilon)`` ratio, certified on the sample.

    Parameters
    ----------
    k : int
        Number of seeds, in ``[1, n_nodes]``.
    epsilon : float
        Accuracy, in ``(0, 1)``: sampling stops once the ratio certified for the
        seeds reaches ``1 - 1/e - epsilon`` (or when the worst-case number of RR
        sets is reached), with probability ``1 - 1/n**ell`` over the whole run.
    model : {"ic", "lt"}
        Independent Cascade or Linear Threshold.
    probabilities : {"wc", "trivalency", "uniform", "weight"}, float or array
        Per-arc probabilities (see :func:`grapevine.diffusion.edge_probabilities`).
    ell : float
        Confidence exponent (> 0): failure probability ``delta = 1/n**ell``.
    min_rr_sets : int, optional
        Floor on the first round's collection size, ``max(theta_0, min_rr_sets)``
        (default :data:`OPIMC_MIN_RR_SETS`; 0 keeps the paper's start ``theta_0``); the
        adaptive rule may grow the collections to :data:`ADAPTIVE_CAP` times it.
    overfit_tol : float
        Tolerance of the adaptive stopping rule (default :data:`OVERFIT_TOL`;
        ``inf`` turns it off).
    max_rr_sets : int, optional
        Largest collection size (default: the larger of the paper's ``theta_max`` and
        :data:`ADAPTIVE_CAP` x the floor, so that the adaptive rule may go past
        ``theta_max`` when ``epsilon`` is large). The run stops there in any case.
    random_state : int, Generator or None
        Same value, same seeds (whatever the number of threads).
    client : dask.distributed.Client, optional
        Sample the RR sets in blocks on this Dask cluster (the same sets, so the same
        seeds, as on local threads); greedy and the bounds run here.

    Attributes
    ----------
    seeds_ : ndarray
        The seed labels, in the order greedy picked them.
    seed_index_ : ndarray of int64
        Their node numbers.
    spread_ : float
        Unbiased spread estimate from the validation collection, ``n Lambda_2(S) / theta``.
    spread_lower_ : float
        Lower confidence bound on the spread of the seeds.
    spread_upper_ : float
        Upper confidence bound on the best possible spread of ``k`` seeds.
    approximation_ : float
        The ratio certified for these seeds, ``spread_lower_ / spread_upper_``.
    guarantee_ : float
        The target ``1 - 1/e - epsilon``.
    n_rr_sets_ : int
        RR sets in each of the two collections at the end (``2 n_rr_sets_`` sampled).
    iterations_ : int
        Collection sizes tried (rounds of greedy).
    overfit_ : float
        ``Lambda_1(S) / Lambda_2(S) - 1``: how much the seeds' coverage of the selection
        collection exceeds that of the validation one at the end.
    theta_max_ : int
        The paper's worst-case collection size for ``epsilon``.
    selection_spread_ : float
        The seeds' estimate on the selection collection (biased upwards by greedy).
    marginal_spread_ : ndarray of float64
        Spread added by each seed, on the selection collection.
    timings_ : dict
        Seconds spent in ``"sampling"`` and ``"selection"`` (greedy, coverage, bounds).

    Notes
    -----
    Two independent collections of RR sets, ``R1`` and ``R2``, start at
    ``theta_0 = max(2((1 - 1/e) alpha + beta)^2, min_rr_sets)`` sets each, with
    ``alpha = sqrt(ln(6/delta))`` and ``beta = sqrt((1 - 1/e)(ln C(n,k) + ln(6/delta)))``,
    and double up to ``theta_max = 2n((1 - 1/e) alpha + beta)^2 / (k epsilon^2)`` (or
    ``max_rr_sets``). At each size greedy picks ``S`` on ``R1``; with
    ``a = ln(3 i_max / delta)`` (``i_max`` the number of sizes that can be reached):

    * ``sigma_l(S) = ((sqrt(Lambda_2(S) + 2a/9) - sqrt(a/2))^2 - a/18) n / theta``, a lower
      bound on the spread of ``S``, from ``R2``, which ``S`` was not chosen on;
    * ``sigma_u(OPT) = (sqrt(Lambda_1^u + a/2) + sqrt(a/2))^2 n / theta``, an upper bound on
      the optimum, where ``Lambda_1^u`` bounds the best coverage of ``R1`` by submodularity:
      the least over the greedy steps ``i`` of ``Lambda_1(S_i)`` plus the ``k`` largest
      marginal coverages, and ``Lambda_1(S_k) / (1 - (1 - 1/k)^k)``.

    The run stops when ``sigma_l / sigma_u >= 1 - 1/e - epsilon`` **and** the adaptive
    rule holds (``Lambda_1(S) <= (1 + t) Lambda_2(S)`` and ``sqrt(1/Lambda_1(S) +
    1/Lambda_2(S)) <= t`` for ``t = overfit_tol``), or at the last size. When the
    adaptive rule fails the next round skips the doublings it predicts too small (the
    coverage grows with the sets, the overfit shrinks about as ``1/theta``; at most
    :data:`MAX_JUMP` times the size at once); skipping sizes keeps the union bound
    below valid. All bounds hold together with
    probability ``1 - delta`` (a union bound over the sizes). Worst-case time as IMM's,
    ``O((k + ell)(n + m) log n / epsilon^2)``, usually far less since the run stops as soon
    as the bounds meet; memory: both collections (their total size, int32 each).

    References
    ----------
    Tang, Tang, Xiao, Yuan. Online processing algorithms for influence maximization.
    SIGMOD 2018.
    Guo, Wang, Wei, Chen. Influence maximization revisited: efficient reverse
    reachable set generation with bound tightened. SIGMOD 2020 (subset sampling).

    Examples
    --------
    >>> g = Graph.from_edges([(0, 1), (0, 2), (0, 3), (4, 5)])
    >>> est = OPIMC(2, probabilities=1.0, random_state=0).fit(g)
    >>> est.seeds_.tolist(), est.spread_
    ([0, 4], 6.0)
    >>> 0 < est.approximation_ <= 1
    True
    """

    def __init__(
        self,
        k: int,
        *,
        epsilon: float = 0.1,
        model: str = "ic",
        probabilities: str | float | np.ndarray = "wc",
        ell: float = 1.0,
        min_rr_sets: int | None = None,
        overfit_tol: float = OVERFIT_TOL,
        max_rr_sets: int | None = None,
        random_state: int | np.random.Generator | None = None,
        client: Any = None,
    ) -> None:
        self.k = k
        self.epsilon = epsilon
        self.model = model
        self.probabilities = probabilities
        self.ell = ell
        self.min_rr_sets = min_rr_sets
        self.overfit_tol = overfit_tol
        self.max_rr_sets = max_rr_sets
        self.random_state = random_state
        self.client = client

    def fit(self, graph: Graph) -> OPIMC:
        """Select ``k`` seeds on ``graph``."""
        from grapevine._kernels.selection import count_covered, greedy_cover_bound

        owner = "OPIMC"
        n = graph.n_nodes
        if n == 0:
            raise InvalidParameter("graph", owner, "a graph with at least one node", graph)
        check_number(self.k, "k", owner, kind=numbers.Integral, low=1, high=n)
        floor = _check_sampling(self, owner, OPIMC_MIN_RR_SETS)
        check_number(self.overfit_tol, "overfit_tol", owner, low=0)
        if self.max_rr_sets is not None:
            check_number(self.max_rr_sets, "max_rr_sets", owner, kind=numbers.Integral, low=1)
        k, eps = int(self.k), float(self.epsilon)
        seed = resolve_seed(self.random_state)
        w = model_weights(graph, self.model, self.probabilities, owner, seed)
        started = time.perf_counter()
        in_ptr, in_src, edge_ids = graph.transpose()
        in_p = np.ascontiguousarray(w[edge_ids])
        lt = self.model == "lt"

        delta = min(float(n) ** -float(self.ell), 0.5)
        log6 = math.log(6.0 / delta)
        core = (_GREEDY * math.sqrt(log6) + math.sqrt(_GREEDY * (_log_comb(n, k) + log6))) ** 2
        theta_max = math.ceil(2.0 * n * core / (k * eps**2))
        start = max(math.ceil(2.0 * core), int(floor), 1)
        if self.max_rr_sets is None:
            cap = max(theta_max, ADAPTIVE_CAP * int(floor))
        else:
            cap = int(self.max_rr_sets)
        cap = max(cap, start)
        sizes = [start]
        while sizes[-1] < cap:
            sizes.append(min(2 * sizes[-1], cap))
        a = math.log(3.0 * len(sizes) / delta)

        client = check_client(self.client, owner)
        r1 = _Pool(in_ptr, in_src, in_p, lt, seed, client)
        r2 = _Pool(in_ptr, in_src, in_p, lt, (seed * 0x9E3779B97F4A7C15 + 2) % 2**64, client, r1)
        sampling = selection = 0.0
        tol = float(self.overfit_tol)
        target = _GREEDY - eps
        it = 0
        at = 0
        while True:
            theta = sizes[at]
            it += 1
            t0 = time.perf_counter()
            r1.grow(theta)
            r2.grow(theta)
            t1 = time.perf_counter()
            seeds, marginal, upper = greedy_cover_bound(r1.offsets, r1.nodes, n, k)
            cov1 = int(marginal.sum())
            cov2 = int(count_covered(r2.offsets, r2.nodes, n, seeds))
            lower_s, upper_s = certify(cov2, theta, cov1, int(upper), theta, k, n, a, a)
            selection += time.perf_counter() - t1
            sampling += t1 - t0
            ratio = lower_s / upper_s if upper_s > 0 else 1.0
            need = _needed(theta, cov1, cov2, tol)
            if (ratio >= target and need <= theta) or at == len(sizes) - 1:
                break
            at += 1
            while at < len(sizes) - 1 and sizes[at] < need:
                at += 1
        self.seed_index_ = np.asarray(seeds, dtype=np.int64)
        self.seeds_ = np.asarray(graph.ids[self.seed_index_])
        self.n_rr_sets_ = theta
        self.iterations_ = it
        self.spread_ = float(n * cov2 / theta)
        self.spread_lower_ = lower_s
        self.spread_upper_ = upper_s
        self.approximation_ = float(ratio)
        self.overfit_ = cov1 / cov2 - 1.0 if cov2 else math.inf
        self.guarantee_ = target
        self.marginal_spread_ = n * marginal.astype(np.float64) / theta
        self.selection_spread_ = float(n * cov1 / theta)
        self.theta_max_ = theta_max
        self.timings_ = {"sampling": sampling, "selection": selection}
        self.timings_["total"] = time.perf_counter() - started
        return self


def opimc(
    graph: Graph,
    k: int,
    *,
    epsilon: float = 0.1,
    model: str = "ic",
    probabilities: str | float | np.ndarray = "wc",
    ell: float = 1.0,
    min_rr_sets: int | None = None,
    overfit_tol: float = OVERFIT_TOL,
    max_rr_sets: int | None = None,
    random_state: int | np.random.Generator | None = None,
    client: Any = None,
) -> Any:
    """Seed labels chosen by :class:`OPIMC` (its function twin).

    Returns
    -------
    ndarray
        The ``k`` seed labels in pick order; use :class:`OPIMC` for the spread
        estimate, its bounds and the certified ratio.

    Examples
    --------
    >>> g = Graph.from_edges([("a", "b"), ("a", "c"), ("d", "e")])
    >>> opimc(g, 1, probabilities=1.0, random_state=0).tolist()
    ['a']
    """
    est = OPIMC(
        k,
        epsilon=epsilon,
        model=model,
        probabilities=probabilities,
        ell=ell,
        min_rr_sets=min_rr_sets,
        overfit_tol=overfit_tol,
        max_rr_sets=max_rr_sets,
        random_state=random_state,
        client=client,
    )
    return est.fit(graph).seeds_

"""IMM: influence maximisation via martingales (Tang, Shi, Xiao, SIGMOD 2015)."""

from __future__ import annotations

import math
import numbers
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from grapevine._distributed import check_client, run_blocks, scatter
from grapevine._validation import check_choice, check_number
from grapevine.diffusion._edges import model_weights, resolve_seed
from grapevine.errors import InvalidParameter
from grapevine.graph import Graph

__all__ = ["IMM", "VALIDATION_SHARE", "imm"]

#: Default floor on the number of RR sets of the selection phase. The
#: guarantee alone asks for fewer sets as ``epsilon`` grows (NetHEPT, k = 50:
#: about 1,000,000 at ``epsilon = 0.1`` but 59,000 at 0.5), and greedy then
#: overfits the sample: it favours seeds that cover the drawn sets by luck, so
#: the estimate is inflated and the real spread falls (940 instead of 963 on
#: NetHEPT; a quarter on implementations with smaller samples). The floor keeps
#: every seed of a k <= 100 plan chosen on many covered sets (docs/planning.md).
MIN_RR_SETS = 100_000

#: Size of IMM's validation collection, as a share of the selection phase's
#: ``theta``: the independent RR sets on which the chosen seeds are counted for
#: the a-posteriori certified ratio (``approximation_``).
VALIDATION_SHARE = 0.25


def _threads() -> int:
    import numba

    return int(numba.get_num_threads())


class _Pool:
    """A growing collection of RR sets (flat offsets + nodes) of one stream.

    With a Dask ``client`` the sets are sampled in blocks on its workers (the same
    sets as on local threads: set ``i`` draws from the stream ``(seed, i)``). ``like``,
    a pool of the same graph and model, lends its sampler tables and the graph
    already sent to the workers.
    """

    def __init__(
        self,
        in_ptr: np.ndarray,
        in_src: np.ndarray,
        in_p: np.ndarray,
        lt: bool,
        seed: int,
        client: Any = None,
        like: _Pool | None = None,
    ) -> None:
        from grapevine._kernels.rrsets import rr_aux

        self.args = (in_ptr, in_src, in_p, lt, seed)
        self.client = client
        self.aux: np.ndarray
        self.shared: list[Any]
        if like is not None:  # same graph and model: reuse its tables and scattered arrays
            self.aux, self.shared = like.aux, like.shared
        else:
            self.aux = rr_aux(in_ptr, in_p, lt)
            self.shared = (
                [] if client is None else scatter(client, [in_ptr, in_src, in_p, self.aux])
            )
        self.offsets = np.zeros(1, dtype=np.int64)
        self.nodes = np.empty(0, dtype=np.int32)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def grow(self, target: int) -> None:
        count = target - len(self)
        if count <= 0:
            return
        in_ptr, in_src, in_p, lt, seed = self.args
        mean = len(self.nodes) / len(self) if len(self) else 0.0
        if self.client is None:
            parts = [sample_block(in_ptr, in_src, in_p, self.aux, lt, seed, mean, len(self), count)]
        else:
            parts = run_blocks(
                self.client, sample_block, self.shared, len(self), count, lt, seed, mean
            )
        if len(self) == 0 and len(parts) == 1:
            self.offsets, self.nodes = parts[0]
            return
        base = [self.offsets[-1]]
        for off, _ in parts[:-1]:
            base.append(base[-1] + off[-1])
        self.offsets = np.concatenate(
            [self.offsets] + [off[1:] + b for (off, _), b in zip(parts, base, strict=True)]
        )
        self.nodes = np.concatenate([self.nodes] + [nodes for _, nodes in parts])

    def select(self, k: int) -> tuple[np.ndarray, int]:
        from grapevine._kernels.rrsets import greedy_cover

        n = len(self.args[0]) - 1
        seeds, marginal = greedy_cover(self.offsets, self.nodes, n, k)
        return seeds, int(marginal.sum())


def sample_block(
    in_ptr: np.ndarray,
    in_src: np.ndarray,
    in_p: np.ndarray,
    aux: np.ndarray,
    lt: bool,
    seed: int,
    mean: float,
    first: int,
    count: int,
) -> tuple[np.ndarray, np.ndarray]:
    """RR sets ``first .. first + count - 1`` on this machine's numba threads (a Dask task)."""
    from grapevine._kernels.rrsets import sample_rr_sets

    return sample_rr_sets(in_ptr, in_src, in_p, lt, seed, first, count, 4 * _threads(), aux, mean)


def _log_comb(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def certify(
    cov_s: int,
    theta_s: int,
    cov_greedy: int,
    upper_cov: int,
    theta_opt: int,
    k: int,
    n: int,
    a_low: float,
    a_up: float,
) -> tuple[float, float]:
    """OPIM-C's bounds: ``(lower bound on sigma(S), upper bound on OPT)``.

    ``cov_s`` of ``theta_s`` RR sets independent of ``S`` hold a seed of ``S``;
    greedy covered ``cov_greedy`` of ``theta_opt`` other sets and bounded the best
    coverage of ``k`` nodes there by ``upper_cov``. The lower bound fails with
    probability ``exp(-a_low)``, the upper one with ``exp(-a_up)`` (Tang, Tang, Xiao,
    Yuan 2018, Lemmas 4.2-4.3). ``sigma(S) >= k`` and ``OPT <= n`` always hold.
    """
    ratio = 1.0 - (1.0 - 1.0 / k) ** k
    bound = min(float(upper_cov), cov_greedy / ratio)
    root = math.sqrt(cov_s + 2.0 * a_low / 9.0) - math.sqrt(a_low / 2.0)
    lower = (root**2 - a_low / 18.0) * n / theta_s if root > 0 else 0.0
    upper = (math.sqrt(bound + a_up / 2.0) + math.sqrt(a_up / 2.0)) ** 2 * n / theta_opt
    return max(lower, float(min(k, n))), min(upper, float(n))


def _timings(sample: _Sample, t1: float, t2: float) -> dict[str, float]:
    """Sampling and selection seconds (coverage inside the sampling phase is selection)."""
    return {
        "sampling": t1 - sample.started - sample.select_seconds,
        "selection": t2 - t1 + sample.select_seconds,
    }


def _check_sampling(est: Any, owner: str, default_floor: int = MIN_RR_SETS) -> int:
    """Check ``epsilon``, ``ell``, ``model`` and ``min_rr_sets``; return the floor on RR sets
    (``default_floor`` when ``min_rr_sets`` is None)."""
    check_number(est.epsilon, "epsilon", owner, low=0, high=1, low_closed=False, high_closed=False)
    check_number(est.ell, "ell", owner, low=0, low_closed=False)
    check_choice(est.model, "model", owner, ("ic", "lt"))
    floor = default_floor if est.min_rr_sets is None else est.min_rr_sets
    check_number(floor, "min_rr_sets", owner, kind=numbers.Integral, low=0)
    return int(floor)


class _Sample(NamedTuple):
    """The outcome of IMM's sampling phase: the selection pool and what it cost."""

    final: _Pool
    theta: int
    lower_bound: float
    sampling_rr_sets: int
    started: float  # perf_counter() when sampling began
    select_seconds: float  # coverage computations inside the sampling phase


def _martingale_sample(
    graph: Graph,
    w: np.ndarray,
    *,
    lt: bool,
    seed: int,
    epsilon: float,
    ell: float,
    floor: int,
    log_count: float,
    ratio: float,
    covered: Callable[[_Pool], int],
    client: Any = None,
) -> _Sample:
    """IMM's sampling phase (Tang, Shi, Xiao 2015, Algorithms 2 and 3), for any coverage rule.

    ``log_count`` is the log of the number of candidate seed sets (``C(n, k)`` for IMM),
    ``ratio`` the approximation ratio of the greedy that ``covered`` runs on a pool (the
    number of RR sets its seeds cover). Returns a fresh pool of ``theta`` RR sets drawn
    from an independent stream for the selection (Chen 2018's fix).
    """
    n = graph.n_nodes
    in_ptr, in_src, edge_ids = graph.transpose()
    in_p = np.ascontiguousarray(w[edge_ids])
    started = time.perf_counter()
    log_n = math.log(n) if n > 1 else 0.0
    ell = ell * (1.0 + math.log(2) / log_n) if n > 1 else ell
    eps_p = math.sqrt(2.0) * epsilon
    log2n = math.log2(n) if n > 1 else 1.0
    lam_p = (
        (2.0 + 2.0 * eps_p / 3.0)
        * (log_count + ell * log_n + math.log(max(log2n, 1.0)))
        * n
        / eps_p**2
    )
    pool = _Pool(in_ptr, in_src, in_p, lt, seed, client)
    lb = 1.0
    select_seconds = 0.0
    for i in range(1, max(1, math.ceil(log2n))):
        x = n / 2.0**i
        pool.grow(math.ceil(lam_p / x))
        ts = time.perf_counter()
        count = covered(pool)
        select_seconds += time.perf_counter() - ts
        est = n * count / len(pool)
        if est >= (1.0 + eps_p) * x:
            lb = est / (1.0 + eps_p)
            break
    alpha = math.sqrt(ell * log_n + math.log(2))
    beta = math.sqrt(ratio * (log_count + ell * log_n + math.log(2)))
    lam_star = 2.0 * n * (ratio * alpha + beta) ** 2 / epsilon**2
    theta = max(math.ceil(lam_star / lb), floor, 1)
    final = _Pool(in_ptr, in_src, in_p, lt, (seed * 0x9E3779B97F4A7C15 + 1) % 2**64, client, pool)
    final.grow(theta)
    return _Sample(final, theta, float(lb), len(pool), started, select_seconds)


class IMM:
    """Seed selection by IMM with a ``(1 - 1/e - epsilon)`` guarantee.

    Parameters
    ----------
    k : int
        Number of seeds, in ``[1, n_nodes]``.
    epsilon : float
        Accuracy, in ``(0, 1)``: the seeds reach at least ``(1 - 1/e - epsilon)``
        of the best possible spread with probability ``1 - 1/n**ell``.
    model : {"ic", "lt"}
        Independent Cascade or Linear Threshold.
    probabilities : {"wc", "trivalency", "uniform", "weight"}, float or array
        Per-arc probabilities (see :func:`grapevine.diffusion.edge_probabilities`).
    ell : float
        Confidence exponent (> 0).
    min_rr_sets : int, optional
        Floor on the RR sets of the selection phase (default :data:`MIN_RR_SETS`;
        0 keeps only what the guarantee asks for).
    random_state : int, Generator or None
        Same value, same seeds (whatever the number of threads).
    client : dask.distributed.Client, optional
        Sample the RR sets in blocks on this Dask cluster (the same sets, so the same
        seeds, as on local threads); greedy runs here.

    Attributes
    ----------
    seeds_ : ndarray
        The seed labels, in the order greedy picked them.
    seed_index_ : ndarray of int64
        Their node numbers.
    spread_ : float
        Estimated spread ``n * covered / n_rr_sets_``.
    n_rr_sets_ : int
        RR sets of the selection phase.
    lower_bound_ : float
        The lower bound ``LB`` on the optimal spread from the sampling phase.
    guarantee_ : float
        The a-priori ratio ``1 - 1/e - epsilon``.
    approximation_ : float
        The ratio certified a posteriori for these seeds, ``spread_lower_ / spread_upper_``
        (OPIM-C's bounds; see :class:`grapevine.influence.OPIMC`).
    spread_lower_ : float
        Lower confidence bound on the spread of the seeds, from ``validation_rr_sets_``
        fresh RR sets (:data:`VALIDATION_SHARE` of ``theta``).
    spread_upper_ : float
        Upper confidence bound on the best spread of ``k`` seeds, from the selection sets.
    validation_spread_ : float
        Unbiased spread estimate from the validation sets.
    marginal_spread_ : ndarray of float64
        Estimated spread added by each seed.
    timings_ : dict
        Seconds spent in ``"sampling"`` (both phases) and ``"selection"``.

    Notes
    -----
    Sampling phase (Algorithm 2 of the paper): with ``eps' = sqrt(2) epsilon``
    and ``lambda' = (2 + 2 eps'/3) (ln C(n,k) + ell ln n + ln log2 n) n / eps'^2``,
    for ``x = n/2, n/4, ...`` draw ``lambda'/x`` RR sets and stop at the first
    ``x`` where the greedy coverage certifies ``n F(S) >= (1 + eps') x``; then
    ``LB = n F(S) / (1 + eps')``. Selection phase: ``theta = lambda* / LB`` with
    ``lambda* = 2n ((1 - 1/e) alpha + beta)^2 / epsilon^2``, ``alpha = sqrt(ell ln n
    + ln 2)``, ``beta = sqrt((1 - 1/e)(ln C(n,k) + ell ln n + ln 2))``; ``ell`` is
    first raised by ``1 + ln 2 / ln n`` so that both phases hold together. The
    selection phase draws fresh RR sets, as Chen (2018) showed reusing the
    sampling-phase sets breaks the martingale argument. Then ``ceil(theta / 4)`` more
    fresh RR sets validate the seeds: with OPIM-C's bounds (each failing with
    probability ``delta / 2``, ``delta = 1/n**ell``) they give the certified ratio
    ``approximation_``, besides the a-priori ``guarantee_``. Expected time
    ``O((k + ell)(n + m) log n / epsilon^2)``; memory is the total RR-set size.

    References
    ----------
    Tang, Shi, Xiao. Influence maximization in near-linear time: a martingale
    approach. SIGMOD 2015.
    Chen. An issue in the martingale analysis of the influence maximization
    algorithm IMM. CSoNet 2018.

    Examples
    --------
    >>> g = Graph.from_edges([(0, 1), (0, 2), (0, 3), (4, 5)])
    >>> est = IMM(2, probabilities=1.0, random_state=0).fit(g)
    >>> est.seeds_.tolist(), est.spread_
    ([0, 4], 6.0)
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
        random_state: int | np.random.Generator | None = None,
        client: Any = None,
    ) -> None:
        self.k = k
        self.epsilon = epsilon
        self.model = model
        self.probabilities = probabilities
        self.ell = ell
        self.min_rr_sets = min_rr_sets
        self.random_state = random_state
        self.client = client

    def fit(self, graph: Graph) -> IMM:
        """Select ``k`` seeds on ``graph``."""
        owner = "IMM"
        n = graph.n_nodes
        if n == 0:
            raise InvalidParameter("graph", owner, "a graph with at least one node", graph)
        check_number(self.k, "k", owner, kind=numbers.Integral, low=1, high=n)
        floor = _check_sampling(self, owner)
        k, eps = int(self.k), float(self.epsilon)
        seed = resolve_seed(self.random_state)
        w = model_weights(graph, self.model, self.probabilities, owner, seed)
        sample = _martingale_sample(
            graph,
            w,
            lt=self.model == "lt",
            seed=seed,
            epsilon=eps,
            ell=float(self.ell),
            floor=floor,
            log_count=_log_comb(n, k),
            ratio=1 - 1 / math.e,
            covered=lambda pool: pool.select(k)[1],
            client=check_client(self.client, owner),
        )
        t1 = time.perf_counter()
        from grapevine._kernels.selection import count_covered, greedy_cover_bound

        final, theta = sample.final, sample.theta
        seeds, marginal, upper = greedy_cover_bound(final.offsets, final.nodes, n, k)
        t2 = time.perf_counter()
        in_ptr, in_src, in_p, lt, _ = final.args
        check = _Pool(
            in_ptr, in_src, in_p, lt, (seed * 0x9E3779B97F4A7C15 + 3) % 2**64, final.client, final
        )
        check.grow(max(1, math.ceil(VALIDATION_SHARE * theta)))
        t3 = time.perf_counter()
        cov2 = int(count_covered(check.offsets, check.nodes, n, seeds))
        a = math.log(2.0 / min(float(n) ** -float(self.ell), 0.5))
        cov1 = int(marginal.sum())
        low, up = certify(cov2, len(check), cov1, int(upper), theta, k, n, a, a)
        t4 = time.perf_counter()
        self.seed_index_ = np.asarray(seeds, dtype=np.int64)
        self.seeds_ = np.asarray(graph.ids[self.seed_index_])
        self.n_rr_sets_ = theta
        self.marginal_spread_ = n * marginal.astype(np.float64) / theta
        self.spread_ = float(n * cov1 / theta)
        self.sampling_rr_sets_ = sample.sampling_rr_sets
        self.validation_rr_sets_ = len(check)
        self.lower_bound_ = sample.lower_bound
        self.validation_spread_ = float(n * cov2 / len(check))
        self.spread_lower_ = low
        self.spread_upper_ = up
        self.approximation_ = low / up
        self.guarantee_ = 1.0 - 1.0 / math.e - eps
        self.timings_ = _timings(sample, t1, t2)
        self.timings_["sampling"] += t3 - t2
        self.timings_["selection"] += t4 - t3
        return self


def imm(
    graph: Graph,
    k: int,
    *,
    epsilon: float = 0.1,
    model: str = "ic",
    probabilities: str | float | np.ndarray = "wc",
    ell: float = 1.0,
    min_rr_sets: int | None = None,
    random_state: int | np.random.Generator | None = None,
    client: Any = None,
) -> Any:
    """Seed labels chosen by :class:`IMM` (its function twin).

    Returns
    -------
    ndarray
        The ``k`` seed labels in pick order; use :class:`IMM` for the spread
        estimate, the lower bound and the number of RR sets.

    Examples
    --------
    >>> g = Graph.from_edges([("a", "b"), ("a", "c"), ("d", "e")])
    >>> imm(g, 1, probabilities=1.0, random_state=0).tolist()
    ['a']
    """
    est = IMM(
        k,
        epsilon=epsilon,
        model=model,
        probabilities=probabilities,
        ell=ell,
        min_rr_sets=min_rr_sets,
        random_state=random_state,
        client=client,
    )
    return est.fit(graph).seeds_

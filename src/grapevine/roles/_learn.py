"""Edge influence probabilities learned from observed cascades on a known graph.

Three estimators, all returning one probability per arc aligned with
``graph.indices`` (the edge ids of :class:`grapevine.graph.Graph`):

- ``"bernoulli"`` and ``"jaccard"``: the static models of Goyal, Bonchi and
  Lakshmanan (WSDM 2010), counts over cascades;
- ``"em"``: expectation-maximisation for the independent cascade (IC) model
  (Saito, Nakano and Kimura, KES 2008).

Cascades come in as :class:`CascadeArrays` (a CSR of node numbers and times),
made by :func:`cascade_arrays` from a DataFrame or lists of ``(user, time)``.
Reading files is the caller's job (``grapevine.connectors.read_cascades``);
this module takes plain arrays and frames only.

The IC likelihood used throughout
---------------------------------
In one cascade, with adoption times ``t``, an arc ``u -> v`` with ``u``
adopted is a *trial* of ``u`` on ``v``. It is a potential success (``u`` is a
*parent* of ``v``) when ``v`` adopted with ``0 < t_v - t_u <= window``, a
failure when ``v`` never adopted or adopted more than ``window`` after ``u``,
and no trial at all when ``v`` adopted no later than ``u``. Then

    log L = sum over adopters v (not the seed) of log(1 - prod_{u parent} (1 - p_uv))
          + sum over reached v of log(prod_{u failed on v} (1 - p_uv))

with each of the two node-level factors floored at ``epsilon`` before the log
(an adopter with no parent, or whose parents all have ``p = 0``, scores
``log(epsilon)``). With ``window=None`` (infinite) every earlier in-neighbour
that adopted is a potential parent: the order of adoptions matters, the gaps
do not. With times binned into steps (``bin_width``) and ``window=1``, the
parents of ``v`` are exactly the adopters of the previous step and the model
is Saito et al.'s discrete-time IC.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any, Literal, NamedTuple

import numpy as np
import pandas as pd
from numba import njit

from grapevine._validation import check_choice, check_number
from grapevine.errors import InvalidParameter, NotConverged
from grapevine.graph import Graph

__all__ = [
    "CascadeArrays",
    "EdgeProbabilities",
    "LogLikelihood",
    "cascade_arrays",
    "cascade_log_likelihood",
    "learn_probabilities",
    "next_adopter_auc",
]

Method = Literal["bernoulli", "jaccard", "em"]
METHODS: tuple[str, ...] = ("bernoulli", "jaccard", "em")
DEFAULT_EPSILON = 1e-6


# ---------------------------------------------------------------------------- cascades
class CascadeArrays(NamedTuple):
    """Cascades as a CSR over graph node numbers.

    Cascade ``c`` is ``nodes[indptr[c]:indptr[c + 1]]`` adopting at
    ``times[indptr[c]:indptr[c + 1]]``, sorted by time (ties keep input order);
    its first node is the seed. A node appears at most once per cascade.

    Attributes
    ----------
    indptr : ndarray of int64, shape (n_cascades + 1,)
    nodes : ndarray of int64
    times : ndarray of float64
    labels : ndarray
        The cascade id of each cascade, as given.
    dropped_adoptions : int
        Adoptions by users not in the graph (removed).
    dropped_repeats : int
        Second and later adoptions of one user in one cascade (removed).
    dropped_cascades : int
        Cascades left with no adoption (removed).
    """

    indptr: np.ndarray
    nodes: np.ndarray
    times: np.ndarray
    labels: np.ndarray
    dropped_adoptions: int = 0
    dropped_repeats: int = 0
    dropped_cascades: int = 0

    @property
    def n_cascades(self) -> int:
        """Number of cascades."""
        return len(self.indptr) - 1

    @property
    def n_adoptions(self) -> int:
        """Number of adoptions, seeds included."""
        return len(self.nodes)


def cascade_arrays(
    graph: Graph,
    data: pd.DataFrame | Iterable[Iterable[tuple[Any, float]]],
    *,
    user: str = "user",
    time: str = "time",
    cascade: str = "cascade",
) -> CascadeArrays:
    """Cascades of user labels and times as :class:`CascadeArrays` on ``graph``.

    Parameters
    ----------
    graph : Graph
        Labels are mapped with :meth:`Graph.index_of`; users not in the graph
        are dropped and counted.
    data : DataFrame or iterable of iterables of (user, time)
        A long frame with one row per adoption (columns ``user``, ``time``,
        ``cascade``), or one sequence of ``(user, time)`` pairs per cascade.
        The posts of ``grapevine.connectors.read_cascades`` batches fit with
        ``user="author", cascade="cascade_id"``.
    user, time, cascade : str
        Column names of a frame.

    Returns
    -------
    CascadeArrays
        Cascades in order of first appearance, each sorted by time; a user's
        earliest adoption is kept; cascades left empty are dropped.

    Raises
    ------
    InvalidParameter
        When a column is missing or a time is not finite.

    Examples
    --------
    >>> g = Graph.from_edges([("a", "b"), ("b", "c")])
    >>> cs = cascade_arrays(g, [[("a", 0.0), ("b", 2.0), ("zed", 3.0)], [("c", 1.0)]])
    >>> cs.indptr.tolist(), cs.nodes.tolist(), cs.dropped_adoptions
    ([0, 2, 3], [0, 1, 2], 1)
    """
    owner = "cascade_arrays"
    if isinstance(data, pd.DataFrame):
        missing = [c for c in (user, time, cascade) if c not in data.columns]
        if missing:
            raise InvalidParameter("data", owner, f"a frame with a {missing[0]!r} column", missing)
        users = data[user].to_numpy()
        times_in = data[time].to_numpy()
        keys = data[cascade].to_numpy()
    else:
        rows = [(c, u, t) for c, seq in enumerate(data) for u, t in seq]
        keys = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        users = np.empty(len(rows), dtype=object)
        users[:] = [r[1] for r in rows]
        times_in = np.array([r[2] for r in rows], dtype=np.float64)
        # keep the int64 dtype of integer labels so index_of compares like with like
        if len(users) and all(isinstance(u, numbers.Integral) for u in users):
            users = users.astype(np.int64)
    try:
        times_arr = np.asarray(times_in, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidParameter("data", owner, "numeric times", "non-numeric values") from None
    if not np.isfinite(times_arr).all():
        raise InvalidParameter("data", owner, "finite times", "NaN or inf")
    codes, labels = pd.factorize(keys, sort=False)
    n_casc = len(labels)
    if len(users):
        uniq, inverse = np.unique(np.asarray(users), return_inverse=True)
        nodes_all = graph.positions(uniq)[inverse.ravel()]
    else:
        nodes_all = np.empty(0, dtype=np.int64)
    known = nodes_all >= 0
    dropped_adoptions = int((~known).sum())
    codes, nodes_all, times_arr = codes[known], nodes_all[known], times_arr[known]
    order = np.lexsort((times_arr, codes))  # stable: ties keep input order
    codes, nodes_all, times_arr = codes[order], nodes_all[order], times_arr[order]
    repeat = pd.DataFrame({"c": codes, "n": nodes_all}).duplicated().to_numpy()
    dropped_repeats = int(repeat.sum())
    codes, nodes_all, times_arr = codes[~repeat], nodes_all[~repeat], times_arr[~repeat]
    sizes = np.bincount(codes, minlength=n_casc)
    kept = sizes > 0
    indptr = np.zeros(int(kept.sum()) + 1, dtype=np.int64)
    np.cumsum(sizes[kept], out=indptr[1:])
    return CascadeArrays(
        indptr=indptr,
        nodes=nodes_all.astype(np.int64),
        times=times_arr,
        labels=np.asarray(labels)[kept],
        dropped_adoptions=dropped_adoptions,
        dropped_repeats=dropped_repeats,
        dropped_cascades=int((~kept).sum()),
    )


def _as_cascades(graph: Graph, cascades: Any) -> CascadeArrays:
    if isinstance(cascades, CascadeArrays):
        if len(cascades.nodes) and (
            cascades.nodes.min() < 0 or cascades.nodes.max() >= graph.n_nodes
        ):
            raise InvalidParameter(
                "cascades", "EdgeProbabilities", f"node numbers in [0, {graph.n_nodes})", "…"
            )
        return cascades
    return cascade_arrays(graph, cascades)


def _prepared_times(cascades: CascadeArrays, bin_width: float | None) -> np.ndarray:
    """Times as given, or step numbers ``floor((t - t_seed) / bin_width)``."""
    times = np.asarray(cascades.times, dtype=np.float64)
    if bin_width is None or not len(times):
        return times
    seed_time = np.repeat(times[cascades.indptr[:-1]], np.diff(cascades.indptr))
    return np.asarray(np.floor((times - seed_time) / bin_width), dtype=np.float64)


# ---------------------------------------------------------------------------- kernels
@njit(cache=True)
def _goyal_counts(indptr, indices, cptr, cnodes, ctimes, window, n):  # type: ignore[no-untyped-def]
    """A_u per node; A_{u2v} and A_{u&v} (both adopted) per arc."""
    m = len(indices)
    a_node = np.zeros(n, dtype=np.int64)
    a_u2v = np.zeros(m, dtype=np.int64)
    a_both = np.zeros(m, dtype=np.int64)
    when = np.full(n, np.nan)
    for c in range(len(cptr) - 1):
        lo, hi = cptr[c], cptr[c + 1]
        for i in range(lo, hi):
            when[cnodes[i]] = ctimes[i]
            a_node[cnodes[i]] += 1
        for i in range(lo, hi):
            u = cnodes[i]
            tu = ctimes[i]
            for e in range(indptr[u], indptr[u + 1]):
                tv = when[indices[e]]
                if tv == tv:  # v adopted in this cascade
                    a_both[e] += 1
                    if tv > tu and tv - tu <= window:
                        a_u2v[e] += 1
        for i in range(lo, hi):
            when[cnodes[i]] = np.nan
    return a_node, a_u2v, a_both


@njit(cache=True)
def _trials(  # type: ignore[no-untyped-def]
    indptr, indices, in_ptr, in_src, edge_ids, cptr, cnodes, ctimes, window, n, fill, out
):
    """Group the trials of every cascade by target node (count, or fill ``out``).

    Groups: each adopter but the seed (``adopt = 1``), then each non-adopter
    with an adopted in-neighbour (``adopt = 0``). Entries: (arc, is_parent).
    """
    g_ptr, g_adopt, ent_edge, ent_parent = out
    when = np.full(n, np.nan)
    stamp = np.zeros(n, dtype=np.int64)
    ng = 0
    ne = 0
    for c in range(len(cptr) - 1):
        lo, hi = cptr[c], cptr[c + 1]
        for i in range(lo, hi):
            when[cnodes[i]] = ctimes[i]
        # adopters, in cascade order, the seed excluded
        for i in range(lo + 1, hi):
            v = cnodes[i]
            tv = ctimes[i]
            for k in range(in_ptr[v], in_ptr[v + 1]):
                tu = when[in_src[k]]
                if tu == tu and tu < tv:
                    if fill:
                        ent_edge[ne] = edge_ids[k]
                        ent_parent[ne] = tv - tu <= window
                    ne += 1
            if fill:
                g_adopt[ng] = 1
                g_ptr[ng + 1] = ne
            ng += 1
        # non-adopters reached from an adopter: every adopted in-neighbour failed
        for i in range(lo, hi):
            u = cnodes[i]
            for e in range(indptr[u], indptr[u + 1]):
                v = indices[e]
                if when[v] == when[v] or stamp[v] == c + 1:
                    continue
                stamp[v] = c + 1
                for k in range(in_ptr[v], in_ptr[v + 1]):
                    if when[in_src[k]] == when[in_src[k]]:
                        if fill:
                            ent_edge[ne] = edge_ids[k]
                            ent_parent[ne] = False
                        ne += 1
                if fill:
                    g_adopt[ng] = 0
                    g_ptr[ng + 1] = ne
                ng += 1
        for i in range(lo, hi):
            when[cnodes[i]] = np.nan
    return ng, ne


@njit(cache=True)
def _log_likelihood(g_ptr, g_adopt, ent_edge, ent_parent, p, eps):  # type: ignore[no-untyped-def]
    total = 0.0
    for g in range(len(g_ptr) - 1):
        none = 1.0  # P(no parent succeeded)
        fail = 1.0  # P(every failed trial failed)
        n_fail = 0
        for j in range(g_ptr[g], g_ptr[g + 1]):
            q = 1.0 - p[ent_edge[j]]
            if ent_parent[j]:
                none *= q
            else:
                fail *= q
                n_fail += 1
        if g_adopt[g]:
            total += math.log(max(1.0 - none, eps))
        if n_fail:
            total += math.log(max(fail, eps))
    return total


@njit(cache=True)
def _em(g_ptr, g_adopt, ent_edge, ent_parent, den, p, tol, max_iter):  # type: ignore[no-untyped-def]
    m = len(p)
    residual = np.inf
    for it in range(max_iter):
        num = np.zeros(m)
        for g in range(len(g_ptr) - 1):
            if not g_adopt[g]:
                continue
            none = 1.0
            for j in range(g_ptr[g], g_ptr[g + 1]):
                if ent_parent[j]:
                    none *= 1.0 - p[ent_edge[j]]
            got = 1.0 - none
            if got <= 0.0:
                continue
            for j in range(g_ptr[g], g_ptr[g + 1]):
                if ent_parent[j]:
                    num[ent_edge[j]] += p[ent_edge[j]] / got
        residual = 0.0
        for e in range(m):
            if den[e] > 0:
                new = min(num[e] / den[e], 1.0)
                residual = max(residual, abs(new - p[e]))
                p[e] = new
        if residual < tol:
            return p, it + 1, residual
    return p, max_iter, residual


@njit(cache=True)
def _next_adopter_auc(indptr, indices, p, cptr, cnodes, n):  # type: ignore[no-untyped-def]
    q = np.ones(n)  # P(not activated by the current adopters)
    adopter = np.zeros(n, dtype=np.int64)
    total = 0.0
    steps = 0
    for c in range(len(cptr) - 1):
        lo, hi = cptr[c], cptr[c + 1]
        n_neg = n - (hi - lo)
        for i in range(lo, hi):
            adopter[cnodes[i]] = c + 1
        if n_neg > 0:
            for i in range(lo, hi - 1):
                u = cnodes[i]
                for e in range(indptr[u], indptr[u + 1]):
                    q[indices[e]] *= 1.0 - p[e]
                qv = q[cnodes[i + 1]]
                below = 0.0
                for w in range(n):
                    if adopter[w] != c + 1:
                        if q[w] > qv:
                            below += 1.0
                        elif q[w] == qv:
                            below += 0.5
                total += below / n_neg
                steps += 1
        for i in range(lo, hi):
            u = cnodes[i]
            for e in range(indptr[u], indptr[u + 1]):
                q[indices[e]] = 1.0
    return total, steps


# ---------------------------------------------------------------------------- trials
class _Trials(NamedTuple):
    g_ptr: np.ndarray
    g_adopt: np.ndarray
    ent_edge: np.ndarray
    ent_parent: np.ndarray


def _build_trials(graph: Graph, cs: CascadeArrays, times: np.ndarray, window: float) -> _Trials:
    in_ptr, in_src, edge_ids = graph.transpose()
    in_src = np.ascontiguousarray(in_src, dtype=np.int64)
    args = (
        graph.indptr,
        graph.indices,
        in_ptr,
        in_src,
        edge_ids,
        cs.indptr,
        cs.nodes,
        times,
        float(window),
        graph.n_nodes,
    )
    empty = _Trials(
        np.zeros(1, np.int64), np.zeros(0, np.int8), np.zeros(0, np.int64), np.zeros(0, np.bool_)
    )
    ng, ne = _trials(*args, False, tuple(empty))
    out = _Trials(
        np.zeros(ng + 1, np.int64),
        np.zeros(ng, np.int8),
        np.zeros(ne, np.int64),
        np.zeros(ne, bool),
    )
    _trials(*args, True, tuple(out))
    return out


def _window(window: float | None, owner: str) -> float:
    if window is None:
        return math.inf
    check_number(window, "window", owner, low=0.0, low_closed=False)
    return float(window)


def _check_probabilities(graph: Graph, probabilities: Any, owner: str) -> np.ndarray:
    p = np.ascontiguousarray(probabilities, dtype=np.float64)
    if p.shape != (graph.n_edges,):
        raise InvalidParameter("probabilities", owner, f"an array of {graph.n_edges}", p.shape)
    if len(p) and not (np.isfinite(p).all() and p.min() >= 0.0 and p.max() <= 1.0):
        raise InvalidParameter("probabilities", owner, "values in [0, 1]", "values outside")
    return p


# ---------------------------------------------------------------------------- scoring
class LogLikelihood(NamedTuple):
    """The IC log-likelihood of cascades and what it was summed over.

    Attributes
    ----------
    total : float
        Natural-log likelihood, adopters' and non-adopters' terms together.
    n_activations : int
        Adopters scored (every adopter but the seed of each cascade).
    n_unexplained : int
        Adopters with no potential parent (no in-neighbour adopted before
        them within the window): each scores ``log(epsilon)``.
    n_non_adopters : int
        Non-adopters with an adopted in-neighbour (their failures scored).
    """

    total: float
    n_activations: int
    n_unexplained: int
    n_non_adopters: int

    @property
    def per_activation(self) -> float:
        """``total / n_activations`` (NaN when nothing was scored)."""
        return self.total / self.n_activations if self.n_activations else math.nan


def _score(trials: _Trials, p: np.ndarray, epsilon: float) -> LogLikelihood:
    total = float(
        _log_likelihood(
            trials.g_ptr, trials.g_adopt, trials.ent_edge, trials.ent_parent, p, epsilon
        )
    )
    adopt = trials.g_adopt.astype(bool)
    group = np.repeat(np.arange(len(adopt)), np.diff(trials.g_ptr))
    parents = np.bincount(group[trials.ent_parent], minlength=len(adopt))
    return LogLikelihood(
        total=total,
        n_activations=int(adopt.sum()),
        n_unexplained=int((adopt & (parents == 0)).sum()),
        n_non_adopters=int((~adopt).sum()),
    )


def cascade_log_likelihood(
    graph: Graph,
    probabilities: Any,
    cascades: CascadeArrays,
    *,
    window: float | None = None,
    epsilon: float = DEFAULT_EPSILON,
) -> LogLikelihood:
    """Log-likelihood of observed cascades under the IC model with given probabilities.

    For each cascade and each adopter ``v`` after the seed,
    ``P(v) = 1 - prod(1 - p_uv)`` over the in-neighbours ``u`` that adopted
    before ``v`` (within ``window``) adds ``log(max(P(v), epsilon))``; each
    node with failed trials (a non-adopter with adopted in-neighbours, or an
    adopter reached too late) adds ``log(max(prod(1 - p_uv), epsilon))``.

    Parameters
    ----------
    graph : Graph
    probabilities : array of float, shape (n_edges,)
        Aligned with ``graph.indices``, values in [0, 1].
    cascades : CascadeArrays
        Made on the same graph by :func:`cascade_arrays`.
    window : float, optional
        A parent must precede its child by at most this much (infinite).
    epsilon : float
        The floor of each probability before its log (1e-6).

    Returns
    -------
    LogLikelihood

    Notes
    -----
    O(sum over cascades of the in-degrees of the nodes reached).

    References
    ----------
    Saito, Nakano, Kimura. Prediction of information diffusion probabilities
    for independent cascade model. KES 2008.

    Examples
    --------
    >>> g = Graph.from_edges([("a", "b"), ("a", "c")])
    >>> cs = cascade_arrays(g, [[("a", 0.0), ("b", 1.0)]])
    >>> ll = cascade_log_likelihood(g, [0.5, 0.25], cs)  # log(0.5) + log(1 - 0.25)
    >>> round(ll.total, 4), ll.n_activations, ll.n_non_adopters
    (-0.9808, 1, 1)
    """
    owner = "cascade_log_likelihood"
    p = _check_probabilities(graph, probabilities, owner)
    check_number(epsilon, "epsilon", owner, low=0.0, high=1.0, low_closed=False)
    cs = _as_cascades(graph, cascades)
    trials = _build_trials(graph, cs, cs.times, _window(window, owner))
    return _score(trials, p, float(epsilon))


def next_adopter_auc(graph: Graph, probabilities: Any, cascades: CascadeArrays) -> float:
    """Mean AUC of ranking the next adopter of each cascade prefix.

    After the first ``k`` adopters of a cascade (``k = 1 .. size - 1``), every
    node scores ``1 - prod(1 - p_uw)`` over the adopters ``u`` with an arc to
    it. The step's AUC is the share of the cascade's non-adopters (every
    graph node that never adopts in it) scoring below the real ``k + 1``-th
    adopter, ties counting one half. Later adopters of the same cascade are
    left out of the step. Returns the mean over all steps (NaN when none).

    Notes
    -----
    O(sum over cascades of size * n_nodes).

    Examples
    --------
    >>> g = Graph.from_edges([("a", "b"), ("a", "c"), ("c", "d")])
    >>> cs = cascade_arrays(g, [[("a", 0.0), ("b", 1.0)]])
    >>> next_adopter_auc(g, [0.9, 0.1, 0.5], cs)  # b beats c and d
    1.0
    """
    p = _check_probabilities(graph, probabilities, "next_adopter_auc")
    cs = _as_cascades(graph, cascades)
    total, steps = _next_adopter_auc(
        graph.indptr, graph.indices, p, cs.indptr, cs.nodes, graph.n_nodes
    )
    return float(total / steps) if steps else math.nan


# ---------------------------------------------------------------------------- estimator
class EdgeProbabilities:
    """Learn IC edge probabilities from cascades on a known graph.

    Parameters
    ----------
    method : {"bernoulli", "jaccard", "em"}
        ``"bernoulli"``: ``p_uv = A_u2v / A_u``; ``"jaccard"``:
        ``p_uv = A_u2v / A_u|v`` (Goyal et al.), where ``A_u`` counts the
        cascades ``u`` adopted, ``A_u2v`` those where ``v`` adopted after
        ``u`` (strictly, within ``window``) and ``A_u|v`` those where either
        adopted. ``"em"``: maximum likelihood of the IC model by EM (Saito
        et al.), started from ``init`` on every arc.
    window : float, optional
        Influence window, in the cascades' time unit (in steps with
        ``bin_width``); infinite by default.
    bin_width : float, optional
        Replace each time by the step ``floor((t - t_seed) / bin_width)``
        before learning. ``bin_width`` with ``window=1`` is Saito et al.'s
        discrete-time IC: only the previous step's adopters can activate.
    default : float
        The probability of an arc with no evidence (its source never adopted
        for Bernoulli, neither end for Jaccard, no trial for EM). 0.
    init : float
        EM start value on every arc (0.5).
    tol : float
        EM stops when no probability moves more than this in an iteration.
    max_iter : int
        EM iterations before :class:`NotConverged`.
    epsilon : float
        Floor of the probabilities in ``log_likelihood_``.

    Attributes
    ----------
    probabilities_ : ndarray of float32, shape (n_edges,)
        Aligned with ``graph.indices``.
    log_likelihood_ : float
        IC log-likelihood of the training cascades under ``probabilities_``
        (see :func:`cascade_log_likelihood`, with the same window and times).
    n_iter_ : int
        EM iterations (0 for the counting methods).
    n_trials_ : ndarray of int64, shape (n_edges,)
        Training cascades in which each arc had a trial (the EM denominator).

    Raises
    ------
    NotConverged
        When EM has not reached ``tol`` after ``max_iter`` iterations.

    Notes
    -----
    Bernoulli and Jaccard: one pass, O(sum over cascades of the out-degrees of
    the adopters). EM: building the trials is O(sum over cascades of the
    in-degrees of the reached nodes); each iteration is linear in the trials.
    The EM log-likelihood is concave in ``-log(1 - p)``, so the maximum it
    converges to does not depend on ``init`` (unless a parameter is unidentified).

    References
    ----------
    Goyal, Bonchi, Lakshmanan. Learning influence probabilities in social
    networks. WSDM 2010.

    Saito, Nakano, Kimura. Prediction of information diffusion probabilities
    for independent cascade model. KES 2008.

    Examples
    --------
    >>> g = Graph.from_edges([("a", "b"), ("a", "c")])
    >>> casc = [[("a", 0), ("b", 1)], [("a", 0), ("c", 5)], [("a", 0), ("b", 2)]]
    >>> EdgeProbabilities("bernoulli").fit(g, casc).probabilities_.round(3)
    array([0.667, 0.333], dtype=float32)
    >>> EdgeProbabilities("jaccard", window=3).fit(g, casc).probabilities_.round(3)
    array([0.667, 0.   ], dtype=float32)
    """

    def __init__(
        self,
        method: Method = "bernoulli",
        *,
        window: float | None = None,
        bin_width: float | None = None,
        default: float = 0.0,
        init: float = 0.5,
        tol: float = 1e-5,
        max_iter: int = 5000,
        epsilon: float = DEFAULT_EPSILON,
    ) -> None:
        self.method = method
        self.window = window
        self.bin_width = bin_width
        self.default = default
        self.init = init
        self.tol = tol
        self.max_iter = max_iter
        self.epsilon = epsilon

    def _validate(self) -> float:
        owner = "EdgeProbabilities"
        check_choice(self.method, "method", owner, METHODS)
        window = _window(self.window, owner)
        if self.bin_width is not None:
            check_number(self.bin_width, "bin_width", owner, low=0.0, low_closed=False)
        check_number(self.default, "default", owner, low=0.0, high=1.0)
        check_number(self.init, "init", owner, low=0.0, high=1.0, low_closed=False)
        check_number(self.tol, "tol", owner, low=0.0, low_closed=False)
        check_number(self.max_iter, "max_iter", owner, kind=numbers.Integral, low=1)
        check_number(self.epsilon, "epsilon", owner, low=0.0, high=1.0, low_closed=False)
        return window

    def fit(self, graph: Graph, cascades: Any) -> EdgeProbabilities:
        """Learn the probabilities of ``graph``'s arcs from ``cascades``.

        ``cascades`` is a :class:`CascadeArrays` on ``graph`` or anything
        :func:`cascade_arrays` takes (with its default column names).
        """
        window = self._validate()
        if not isinstance(graph, Graph):
            raise InvalidParameter("graph", "EdgeProbabilities", "a Graph", type(graph).__name__)
        cs = _as_cascades(graph, cascades)
        times = _prepared_times(cs, self.bin_width)
        trials = _build_trials(graph, cs, times, window)
        den = np.bincount(trials.ent_edge, minlength=graph.n_edges).astype(np.int64)
        n_iter = 0
        if self.method == "em":
            p0 = np.where(den > 0, float(self.init), float(self.default))
            p, n_iter, residual = _em(
                trials.g_ptr,
                trials.g_adopt,
                trials.ent_edge,
                trials.ent_parent,
                den,
                p0,
                float(self.tol),
                int(self.max_iter),
            )
            if not residual < self.tol:
                raise NotConverged("EdgeProbabilities(method='em')", int(n_iter), float(residual))
        else:
            a_node, a_u2v, a_both = _goyal_counts(
                graph.indptr, graph.indices, cs.indptr, cs.nodes, times, window, graph.n_nodes
            )
            a_u = a_node[graph.sources()]
            denom = a_u if self.method == "bernoulli" else a_u + a_node[graph.indices] - a_both
            p = np.full(graph.n_edges, float(self.default))
            has = denom > 0
            p[has] = a_u2v[has] / denom[has]
        self.probabilities_ = p.astype(np.float32)
        self.log_likelihood_ = _score(
            trials, self.probabilities_.astype(np.float64), float(self.epsilon)
        ).total
        self.n_iter_ = int(n_iter)
        self.n_trials_ = den
        return self


def learn_probabilities(
    graph: Graph,
    cascades: Any,
    method: Method = "bernoulli",
    *,
    window: float | None = None,
    bin_width: float | None = None,
    default: float = 0.0,
    init: float = 0.5,
    tol: float = 1e-5,
    max_iter: int = 5000,
) -> np.ndarray:
    """Edge probabilities learned from cascades: the function twin of :class:`EdgeProbabilities`.

    Returns ``EdgeProbabilities(method, ...).fit(graph, cascades).probabilities_``
    (float32, aligned with ``graph.indices``); see the class for the parameters.

    References
    ----------
    Goyal, Bonchi, Lakshmanan. Learning influence probabilities in social
    networks. WSDM 2010.

    Examples
    --------
    >>> g = Graph.from_edges([("a", "b"), ("a", "c")])
    >>> casc = [[("a", 0), ("b", 1)], [("a", 0)], [("a", 0), ("b", 2), ("c", 3)]]
    >>> [round(float(x), 3) for x in learn_probabilities(g, casc, "em")]
    [0.667, 0.333]
    """
    est = EdgeProbabilities(
        method,
        window=window,
        bin_width=bin_width,
        default=default,
        init=init,
        tol=tol,
        max_iter=max_iter,
    ).fit(graph, cascades)
    return np.asarray(est.probabilities_)

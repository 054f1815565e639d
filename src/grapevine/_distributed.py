"""The distributed path: embarrassingly parallel sampling on a Dask cluster.

Monte-Carlo runs and RR sets draw from counter streams keyed by ``(seed, index)``
(:mod:`grapevine._kernels.diffusion`), so a batch of indices can be cut into blocks,
each block computed on any worker, and the blocks joined in index order: the result
is the same as on local threads, bit for bit. The graph's arrays are scattered to
every worker once per call (``broadcast=True``), then one task per block runs the
usual numba kernel there, on that worker's threads.

Local threads stay the default; a call takes a ``dask.distributed.Client`` through
its ``client=`` parameter. Dask itself is an optional dependency
(``pip install grapevine[dask]``); this module never imports it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from grapevine.errors import InvalidParameter

__all__ = ["blocks", "check_client", "run_blocks", "scatter"]

#: Blocks per worker thread: enough to balance uneven blocks, few enough that the
#: per-task overhead (a few milliseconds) stays small.
BLOCKS_PER_THREAD = 2


def check_client(client: Any, owner: str) -> Any:
    """``client`` itself when it looks like a ``dask.distributed.Client``."""
    if client is None:
        return None
    if not all(callable(getattr(client, a, None)) for a in ("scatter", "submit", "gather")):
        raise InvalidParameter(
            "client", owner, "a dask.distributed Client (scatter, submit, gather) or None", client
        )
    return client


def blocks(client: Any, start: int, count: int) -> list[tuple[int, int]]:
    """``(first, size)`` of consecutive blocks covering ``start .. start + count - 1``."""
    threads = sum(client.nthreads().values()) if hasattr(client, "nthreads") else 1
    parts = max(1, min(count, BLOCKS_PER_THREAD * max(1, int(threads))))
    cuts = [start + count * i // parts for i in range(parts + 1)]
    return [(cuts[i], cuts[i + 1] - cuts[i]) for i in range(parts) if cuts[i + 1] > cuts[i]]


def scatter(client: Any, arrays: Sequence[Any]) -> list[Any]:
    """Send ``arrays`` to every worker once; the futures stand for them in tasks."""
    # hash=False: keys unique to this call. With content hashes, the release of an
    # earlier call's futures for the same arrays can race a new scatter and drop the
    # data from the workers ("lost dependencies"), as the tests showed.
    return list(client.scatter(list(arrays), broadcast=True, hash=False))


def run_blocks(
    client: Any,
    fn: Callable[..., Any],
    shared: Sequence[Any],
    start: int,
    count: int,
    *args: Any,
) -> list[Any]:
    """``fn(*shared, *args, first, size)`` for each block, results in block order.

    ``shared`` are futures from :func:`scatter`; ``fn`` must be importable on the
    workers (a module-level function of grapevine).
    """
    futures = [
        client.submit(fn, *shared, *args, first, size, pure=False)
        for first, size in blocks(client, start, count)
    ]
    return list(client.gather(futures))

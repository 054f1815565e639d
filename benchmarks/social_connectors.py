"""Requests and throughput of the Hacker News, Bluesky, Reddit and X sources.

Each source reads a backlog of N new items (default 2,000) from the local server that answers
in the platforms' shapes (tests/social_server.py, on 127.0.0.1), after a first fetch that set
its cursor, in fetches of ``limit=500``. Rows: requests sent (each platform's largest page),
fetches until nothing is new, and items a second end to end (HTTP on the loopback, JSON
decoding, field checks, mapping to posts). It measures the connectors' own cost and their
request counts, not the platforms' latency. Output: results/social_connectors.md.

Run: ``.venv/bin/python benchmarks/social_connectors.py [N]``
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _common import RESULTS_DIR, facts_markdown, machine_facts, markdown_table, write_report

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from grapevine.connectors.bluesky import BlueskySource
from grapevine.connectors.hackernews import HackerNewsSource
from grapevine.connectors.reddit import RedditSource
from grapevine.connectors.x import XSource
from social_server import (
    REDDIT_ID,
    REDDIT_SECRET,
    T0,
    X_APP_TOKEN,
    SocialServer,
    bsky_view,
    hn_hit,
    reddit_thing,
    x_tweet,
)


def _run(srv: SocialServer, name: str, make: Callable[[], Any], fill: Callable[[int], None],
         n: int) -> list[str]:  # fmt: skip
    fill(0)
    with make() as source:
        cursor = source.fetch(None, limit=1).cursor
        fill(n)
        before = len(srv.log)
        start = time.perf_counter()
        got = fetches = 0
        while True:
            result = source.fetch(cursor, limit=500)
            fetches += 1
            cursor = result.cursor
            got += len(result.posts)
            if not result.posts:
                break
        seconds = time.perf_counter() - start
    assert got == n, (name, got, n)
    requests = len(srv.log) - before
    return [name, f"{n:,}", str(requests), str(fetches), f"{seconds:.2f}", f"{n / seconds:,.0f}"]


def main(n: int) -> None:
    rows = []
    with SocialServer() as srv:
        srv.bsky_requires_auth = False

        def hn(k: int) -> None:
            srv.hn = [hn_hit(i, T0 + i) for i in range(1, 2 + k)]

        def bs(k: int) -> None:
            srv.bsky = [bsky_view(i, T0 + i) for i in range(1, 2 + k)]

        def rd(k: int) -> None:
            srv.reddit["new"] = [reddit_thing(i, T0 + i) for i in range(1, 2 + k)]

        def xx(k: int) -> None:
            srv.x = [x_tweet(i, T0 + i) for i in range(1, 2 + k)]

        rows.append(_run(srv, "Hacker News", lambda: HackerNewsSource(base_url=srv.url), hn, n))
        rows.append(_run(srv, "Bluesky", lambda: BlueskySource("grapevine", base_url=srv.url),
                         bs, n))  # fmt: skip
        rows.append(
            _run(
                srv,
                "Reddit",
                lambda: RedditSource(
                    "new:grapevine",
                    client_id=REDDIT_ID,
                    client_secret=REDDIT_SECRET,
                    base_url=srv.url,
                    auth_url=srv.url,
                ),
                rd,
                n,
            )
        )
        rows.append(_run(srv, "X", lambda: XSource("grapevine", bearer_token=X_APP_TOKEN,
                                                   base_url=srv.url), xx, n))  # fmt: skip
    head = ["source", "new items", "requests", "fetches", "seconds", "items / s"]
    table = markdown_table(head, rows, "lrrrrr")
    print(table)
    facts = machine_facts(extra=[("command", f"python benchmarks/social_connectors.py {n}")])
    write_report(
        RESULTS_DIR / "social_connectors.md",
        "# Hacker News, Bluesky, Reddit and X sources\n\n"
        f"A backlog of {n:,} new items read in fetches of limit=500 from the local replay "
        f"server.\n\n{table}\n\n{facts_markdown(facts)}\n",
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)

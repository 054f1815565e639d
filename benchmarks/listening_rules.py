"""Watch-rule matching throughput and what_grew run time, on synthetic posts.

Posts: the texts of the Mastodon replay fixtures (HTML stripped, mixed scripts, emoji) each
followed by 3-25 random brand words, languages drawn from en / nl / none. Rules: five
hand-written brand queries (phrases, prefixes, hashtags, mentions, exclusions, languages,
Japanese substrings) and random ``(a OR b*) -c`` rules up to the count asked for.

Rows: ``match_rules`` (one tokenisation per post, every rule compiled to one function);
its tokenisation alone (``MatchText``); a floor, one ``re.search`` per post of a single
case-insensitive alternation of all the rules' words (no boolean logic, no accent folding);
``what_grew`` on a 5,000-post window against a 50,000-post baseline (12 words a post,
5,000-word vocabulary, 30 % replies). Best of three runs. Output:
results/listening_rules.md.

Run: ``.venv/bin/python benchmarks/listening_rules.py``
"""

from __future__ import annotations

import json
import random
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

from _common import RESULTS_DIR, facts_markdown, machine_facts, markdown_table, write_report
from grapevine.connectors import ListenedPost
from grapevine.connectors.mastodon import status_to_posts
from grapevine.listening import MatchText, WatchRule, match_rules, what_grew

ROOT = Path(__file__).resolve().parent.parent
WORDS = (
    "brewly leak tank coffee service espresso machine great bad refund broken love hate x2 support"
).split()
QUERIES = [
    'brewly (leak* OR "customer service") -#ad lang:en,nl',
    "#brewly OR @brewly",
    '"brewly x2" -refund',
    "(espresso OR coffee) (broken OR bad OR hate) NOT love",
    "壊れた OR 水漏れ",
]


def best_of(fn: Callable[[], object], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def make_posts(n: int, rng: random.Random) -> list[tuple[str, str | None]]:
    fixture = ROOT / "tests" / "fixtures" / "listening" / "mastodon" / "statuses.json"
    statuses = json.loads(fixture.read_text("utf-8"))
    base = [p.text for s in statuses for p in status_to_posts(s, host="social.example")]
    return [
        (
            rng.choice(base) + " " + " ".join(rng.choices(WORDS, k=rng.randint(3, 25))),
            rng.choice(["en", "nl", None]),
        )
        for _ in range(n)
    ]


def make_rules(count: int, rng: random.Random) -> list[WatchRule]:
    rules = [WatchRule.parse(q) for q in QUERIES[:count]]
    while len(rules) < count:
        a, b, c = rng.sample(WORDS, 3)
        rules.append(WatchRule.parse(f"({a} OR {b}*) -{c}"))
    return rules


def synthetic(n: int, extra: list[str], start: int, rng: random.Random) -> list[ListenedPost]:
    vocab = [f"w{i}" for i in range(5000)] + ["brewly", "coffee", "machine"]
    out = []
    for i in range(n):
        words = rng.choices(vocab, k=12)
        if extra and rng.random() < 0.3:
            words += rng.choices(extra, k=2)
        parent = str(start + rng.randrange(i)) if i and rng.random() < 0.3 else None
        out.append(
            ListenedPost(
                "mastodon",
                str(start + i),
                f"user{rng.randrange(2000)}",
                float(i),
                " ".join(words),
                parent_external_id=parent,
            )
        )
    return out


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    rng = random.Random(0)
    posts = make_posts(n, rng)
    rows = []
    for count in (5, 30):
        rules = make_rules(count, rng)
        seconds = best_of(lambda rules=rules: match_rules(rules, posts))
        rows.append((f"match_rules, {count} rules", f"{seconds:.3f}", f"{n / seconds:,.0f}"))
    seconds = best_of(lambda: [MatchText(t, lang) for t, lang in posts])
    rows.append(("tokenisation alone (MatchText)", f"{seconds:.3f}", f"{n / seconds:,.0f}"))
    floor = re.compile(r"\b(?:" + "|".join(map(re.escape, WORDS)) + r")\b", re.IGNORECASE)
    seconds = best_of(lambda: [floor.search(t) for t, _ in posts])
    rows.append(("floor: one re.search of all the words", f"{seconds:.3f}", f"{n / seconds:,.0f}"))

    grng = random.Random(1)
    baseline = synthetic(50_000, [], 0, grng)
    window = synthetic(5_000, ["leak", "tank", "refund"], 1_000_000, grng)
    seconds = best_of(lambda: what_grew(window, baseline))
    rows.append(("what_grew, 5,000 vs 50,000 posts", f"{seconds:.3f}", f"{55_000 / seconds:,.0f}"))

    table = markdown_table(["what", "seconds (best of 3)", "posts / s"], rows, "lrr")
    print(table)
    facts = machine_facts(extra=[("command", "python benchmarks/listening_rules.py " + str(n))])
    write_report(
        RESULTS_DIR / "listening_rules.md",
        f"# Watch rules and what grew\n\n{n:,} posts.\n\n{table}\n\n{facts_markdown(facts)}\n",
    )


if __name__ == "__main__":
    main()

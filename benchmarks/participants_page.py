"""How long one page of a campaign's participants takes, first page to last, with a search.

Builds a campaign with ``--participants`` participants (each with a code) on a fresh SQLite
file, then times :func:`grapevine.referrals.list_participants` (the workflow behind
``GET /api/campaigns/{id}/participants`` and ``grapevine campaign participants``): the first
page, a page in the middle and the last page reached through the cursor (keyset paging: the
cost should not grow with the depth), and an e-mail prefix search. Each figure is the median
of ``--repeat`` calls.

Usage::

    .venv/bin/python benchmarks/participants_page.py [--participants 20000] [--limit 50]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy.orm import Session

from _common import (
    RESULTS_DIR,
    busy_note,
    command_line,
    facts_markdown,
    machine_facts,
    markdown_table,
    median,
    write_report,
)
from grapevine import referrals as rf
from grapevine.store import Store, codes_repo, persons_repo, tenants_repo


def _fill(session: Session, campaign_id: int, n: int) -> None:
    for i in range(n):
        email = f"user{i:06d}@example.org"
        person = persons_repo.get_or_create_person(
            session, platform=persons_repo.EMAIL_PLATFORM, handle=email
        )
        codes_repo.get_or_create_participant(
            session, campaign_id=campaign_id, person_id=person.id, email=email, now=float(i)
        )
        codes_repo.add_code(
            session, code=f"C{i:07d}", campaign_id=campaign_id, person_id=person.id, now=float(i)
        )
        if i % 1000 == 999:
            session.commit()
    session.commit()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--participants", type=int, default=20000)
    parser.add_argument("--limit", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "participants_page.md")
    args = parser.parse_args(argv)
    rows = []
    with (
        tempfile.TemporaryDirectory() as tmp,
        Store(f"sqlite:///{Path(tmp) / 'p.db'}") as store,
        Session(store.engine) as session,
    ):
        tenant = tenants_repo.get_or_create_tenant(session, slug="bench")
        cid = rf.create_campaign(
            session,
            tenant_id=tenant.id,
            document={"name": "bench", "destinations": ["https://shop.example/"]},
        ).id
        session.commit()
        _fill(session, cid, args.participants)
        cursors: list[str | None] = [None]
        page = rf.list_participants(session, campaign_id=cid, limit=args.limit)
        while page.next_cursor is not None:
            cursors.append(page.next_cursor)
            page = rf.list_participants(
                session, campaign_id=cid, limit=args.limit, cursor=page.next_cursor
            )
        cases = [
            ("first page", {"cursor": cursors[0]}),
            (
                f"page {len(cursors) // 2 + 1} of {len(cursors)}",
                {"cursor": cursors[len(cursors) // 2]},
            ),
            (f"last page ({len(cursors)})", {"cursor": cursors[-1]}),
            ("search 'user0123'", {"search": "user0123"}),
        ]
        for label, extra in cases:
            times = []
            for _ in range(args.repeat):
                t = time.perf_counter()
                got = rf.list_participants(session, campaign_id=cid, limit=args.limit, **extra)  # type: ignore[arg-type]
                times.append(time.perf_counter() - t)
            rows.append((label, len(got.items), got.total, f"{median(times) * 1000:.2f}"))
    text = "\n".join(
        [
            "# One page of participants (keyset paging)",
            "",
            f"`{command_line('participants_page.py', argv)}`",
            "",
            markdown_table(["page", "rows", "total", "median ms"], rows, align="lrrr"),
            busy_note("the milliseconds are higher than on an idle machine"),
            facts_markdown(machine_facts(("sqlalchemy",))),
        ]
    )
    write_report(args.out, text)


if __name__ == "__main__":
    main()

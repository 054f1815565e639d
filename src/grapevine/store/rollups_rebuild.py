"""Rebuild a campaign's referral rollups from its events and rewards.

The reference of :mod:`grapevine.store.rollups_repo`: after any stream of events (re-sent,
late, refunds, erasures) the incrementally kept rollups equal what :func:`rebuild_rollups`
computes. It reads the events with a few ``GROUP BY`` queries (the buckets, the referrers'
counters) and one window query (each visitor's first human click); the conversions are read
one row each to place every person in the acquisition tree.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Connection, Integer, case, func, select
from sqlalchemy import column as sa_column
from sqlalchemy import table as sa_table
from sqlalchemy.orm import Session

from grapevine._validation import MONEY
from grapevine.store.models import ReferralEvent, Reward
from grapevine.store.rollups_models import EXCLUDED_DAY, NO_REFERRER
from grapevine.store.rollups_repo import (
    _BUCKETS,
    _CHANNELS,
    _CONVERSIONS,
    _PEOPLE,
    _PERSON_FIELDS,
    _REWARDS,
    _TREE_COLUMNS,
    DIRECT,
    KEPT_OFF,
    _bucket_generation,
    _buckets,
    _channels,
    _Counters,
    _fields,
    _valid,
    day_sql,
)

__all__ = ["rebuild_rollups"]


def rebuild_rollups(session: Session, *, campaign_id: int) -> dict[str, int]:
    """Recompute the campaign's rollups from its events and rewards (in the caller's
    transaction); returns how many rollup rows of each table were written.

    The reference for the incremental path: after any stream of events (re-sent, late,
    refunds, erasures), the rollups equal what this computes.
    """
    conn = session.connection()
    for table in (_BUCKETS, _PEOPLE, _CHANNELS, _REWARDS):
        conn.execute(table.delete().where(table.c.campaign_id == campaign_id))
    e = ReferralEvent
    persons: dict[int, dict[str, Any]] = {}

    def person(pid: int) -> dict[str, Any]:
        found = persons.get(pid)
        if found is None:
            found = persons[pid] = {
                "campaign_id": campaign_id,
                "person_id": pid,
                **dict.fromkeys(_TREE_COLUMNS),
                "cycle_signup_s": None,
                "cycle_purchase_s": None,
                **dict.fromkeys(_PERSON_FIELDS, 0),
                "referred_signup_people": 0,
                "referred_purchase_people": 0,
                "rewards": 0,
                "rewards_amount": 0.0,
            }
        return found

    conversions: Any = conn.execute(
        select(e.id, e.kind, e.time, e.referrer_id, e.person_id)
        .where(
            e.campaign_id == campaign_id,
            e.kind.in_(_CONVERSIONS),
            e.person_id.is_not(None),
            _valid(e.time),
        )
        .order_by(e.time, e.id)
    )
    for i, kind, t, ref, pid in conversions:
        row = person(int(pid))
        if row["first_at"] is None:
            row["first_at"], row["first_event_id"] = float(t), int(i)
            row["referred_by"] = None if ref is None or int(ref) == int(pid) else int(ref)
        if row[f"first_{kind}_at"] is None:
            row[f"first_{kind}_at"] = float(t)
    channels = _channels()
    referred: Any = conn.execute(
        select(e.referrer_id, e.channel, e.kind, e.traffic, func.count(), func.sum(e.value))
        .where(e.campaign_id == campaign_id, e.referrer_id.is_not(None), _valid(e.time))
        .group_by(e.referrer_id, e.channel, e.kind, e.traffic)
    )
    for ref, channel, kind, traffic, n, total in referred:
        fields = _fields(kind, traffic, int(n), float(total or 0.0))
        row = person(int(ref))
        for name, value in fields.items():
            row[name] += value
        channels.add((campaign_id, int(ref), channel or DIRECT), fields)
    for row in list(persons.values()):
        ref = row["referred_by"]
        if ref is None:
            continue
        parent = person(ref)
        parent["referred_signup_people"] += row["first_signup_at"] is not None
        parent["referred_purchase_people"] += row["first_purchase_at"] is not None
        for kind in _CONVERSIONS:
            mine, theirs = row[f"first_{kind}_at"], parent[f"first_{kind}_at"]
            if mine is not None and theirs is not None:
                row[f"cycle_{kind}_s"] = mine - theirs
    generations = _tree_generations({p: r["referred_by"] for p, r in persons.items()})
    for pid, row in persons.items():
        row["generation"] = generations[pid]
    rewards = _Counters(_REWARDS, ("campaign_id", "status"), ("count", "amount"))
    r = Reward
    for pid, status, n, total in conn.execute(
        select(r.person_id, r.status, func.count(), func.sum(r.amount))
        .where(r.campaign_id == campaign_id, r.amount >= MONEY.low, r.amount <= MONEY.high)
        .group_by(r.person_id, r.status)
    ):
        rewards.add((campaign_id, status), {"count": int(n), "amount": float(total or 0.0)})
        if pid is not None:
            row = person(int(pid))
            if status not in KEPT_OFF:
                row["rewards"] += int(n)
                row["rewards_amount"] += float(total or 0.0)
    for row in persons.values():  # persons added for their rewards or as referrers only
        if row["generation"] is None and row["referred_by"] is None:
            row["generation"] = 0
    if persons:
        conn.execute(_PEOPLE.insert(), sorted(persons.values(), key=lambda x: x["person_id"]))
    channels.write(conn)
    n_rewards = len(rewards.rows)
    rewards.write(conn)
    n_buckets = _rebuild_buckets(conn, campaign_id, generations)
    return {
        "referral_rollups": n_buckets,
        "referrer_rollups": len(persons),
        "reward_rollups": n_rewards,
    }


def _tree_generations(parents: dict[int, int | None]) -> dict[int, int | None]:
    """Depth of each node under ``parents`` (None: a root); None on or under a cycle."""
    depth: dict[int, int | None] = {}
    for start in parents:
        path: list[int] = []
        on_path: set[int] = set()
        node: int | None = start
        base: int | None
        while True:
            if node is None:
                base = -1
                break
            if node in depth:
                base = depth[node]
                break
            if node in on_path:
                base = None  # a cycle
                break
            path.append(node)
            on_path.add(node)
            node = parents.get(node)
        for n in reversed(path):
            base = None if base is None else base + 1
            depth[n] = base
    return depth


_GENERATIONS = sa_table(
    "rollup_generations", sa_column("person_id", BigInteger), sa_column("generation", Integer)
)


def _rebuild_buckets(conn: Connection, campaign_id: int, generations: dict[int, int | None]) -> int:
    """The day, channel and generation rows: the events grouped in SQL, each referrer's
    generation joined from a temporary table (a few thousand groups, however many events)."""
    conn.exec_driver_sql(
        "CREATE TEMPORARY TABLE IF NOT EXISTS rollup_generations "
        "(person_id BIGINT PRIMARY KEY, generation INTEGER NOT NULL)"
    )
    conn.exec_driver_sql("DELETE FROM rollup_generations")
    if generations:
        conn.execute(
            _GENERATIONS.insert(),
            [
                {"person_id": p, "generation": _bucket_generation(p, generations)}
                for p in sorted(generations)
            ],
        )
    g = _GENERATIONS.c

    def generation_of(referrer: Any) -> Any:
        return case((referrer.is_(None), NO_REFERRER), else_=func.coalesce(g.generation, 0))

    e = ReferralEvent
    buckets = _buckets()
    day = day_sql(conn, e.time)
    generation = generation_of(e.referrer_id)
    grouped: Any = conn.execute(
        select(day, e.channel, generation, e.kind, e.traffic, func.count(), func.sum(e.value))
        .select_from(e)
        .outerjoin(_GENERATIONS, g.person_id == e.referrer_id)
        .where(e.campaign_id == campaign_id, _valid(e.time))
        .group_by(day, e.channel, generation, e.kind, e.traffic)
    )
    for d, channel, gen, kind, traffic, n, total in grouped:
        key = (campaign_id, int(d), channel or DIRECT, int(gen))
        buckets.add(key, _fields(kind, traffic, int(n), float(total or 0.0)))
    for channel, kind, traffic, n, total in conn.execute(
        select(e.channel, e.kind, e.traffic, func.count(), func.sum(e.value))
        .where(e.campaign_id == campaign_id, ~_valid(e.time))
        .group_by(e.channel, e.kind, e.traffic)
    ):
        key = (campaign_id, EXCLUDED_DAY, channel or DIRECT, NO_REFERRER)
        buckets.add(key, _fields(kind, traffic, int(n), float(total or 0.0)))
    order = func.row_number().over(partition_by=e.visitor_id, order_by=(e.time, e.id))
    firsts = (
        select(e.time, e.channel, e.referrer_id, order.label("n"))
        .where(
            e.campaign_id == campaign_id,
            e.kind == "click",
            e.traffic == "browser",
            e.visitor_id.is_not(None),
            _valid(e.time),
        )
        .subquery()
    )
    first_day = day_sql(conn, firsts.c.time)
    first_generation = generation_of(firsts.c.referrer_id)
    visitors: Any = conn.execute(
        select(first_day, firsts.c.channel, first_generation, func.count())
        .select_from(firsts)
        .outerjoin(_GENERATIONS, g.person_id == firsts.c.referrer_id)
        .where(firsts.c.n == 1)
        .group_by(first_day, firsts.c.channel, first_generation)
    )
    for d, channel, gen, n in visitors:
        buckets.add((campaign_id, int(d), channel or DIRECT, int(gen)), {"visitors": int(n)})
    conn.exec_driver_sql("DROP TABLE rollup_generations")
    n_rows = len(buckets.rows)
    buckets.write(conn)
    return n_rows

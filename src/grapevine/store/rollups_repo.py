"""Keep the referral rollups (:mod:`grapevine.store.rollups_models`) current, or rebuild them.

Every write of ``referral_events`` and ``rewards`` updates the rollups in its own
transaction, so a figure never counts an event that was rolled back and never misses one that
was committed:

* the short-link clicks of :class:`grapevine.service._clicks.ClickWriter` go through
  :func:`grapevine.service._clicks.insert_clicks`, which calls :func:`apply_events` with the
  rows its ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` really inserted (a re-sent click
  adds nothing);
* every other event and every reward is written through the ORM: an ``after_flush``
  listener on :class:`~sqlalchemy.orm.Session` (registered when this module is imported,
  which :mod:`grapevine.store.models` does) applies the ``ReferralEvent`` rows the flush
  inserted and the ``Reward`` rows it inserted, changed or deleted. A duplicate event fails
  its flush on the unique index before the listener runs;
* an erasure calls :func:`erasing` before it scrubs the visitor ids and re-points the
  person's rows to the tombstone.

Events are facts: a changed or deleted event row (outside an erasure) is not followed;
:func:`grapevine.store.rollups_rebuild.rebuild_rollups` recomputes a campaign from its events
and rewards and is the reference the incremental path is tested against.

The acquisition tree
--------------------
A person is *referred by* the referrer of their first conversion (signup or purchase; the
earliest time, then the lowest event id), unless it names nobody or themself. Generation 0
is a person referred by nobody (organic, or a referrer with no conversion); g + 1 is a
person referred by a generation-g person. A late event can move a person, and with them
their whole subtree, to another generation: their events then move between the rollup rows
of the two generations. Persons on a referral cycle (A's first conversion credited to B and
B's to A), and those under them, have no generation.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    Table,
    cast,
    event,
    func,
    literal_column,
    select,
)
from sqlalchemy.orm import Session, UOWTransaction

from grapevine._validation import MONEY, TIME
from grapevine.store.models import ReferralEvent, Reward
from grapevine.store.rollups_models import (
    EXCLUDED_DAY,
    NO_GENERATION,
    NO_REFERRER,
    ReferralRollup,
    ReferrerChannelRollup,
    ReferrerRollup,
    RewardRollup,
)

__all__ = [
    "DIRECT",
    "EVENT_COLUMNS",
    "KEPT_OFF",
    "EventRow",
    "apply_events",
    "apply_rewards",
    "day_of",
    "day_sql",
    "erasing",
    "referrer_figures",
]

DIRECT = "direct"
"""The channel of a link shared without one."""

KEPT_OFF = ("void", "clawed_back")
"""Reward statuses that a person does not keep: left out of their reward total."""

_DAY = 86400.0
_SHIFT_DAYS = 36525  # a century: every valid time shifted is positive, so truncation floors
_SHIFT = _SHIFT_DAYS * _DAY
_CHUNK = 500

_BUCKET_FIELDS = (
    "clicks_human",
    "clicks_bot",
    "clicks_preview",
    "visitors",
    "shares",
    "signups",
    "purchases",
    "refunds",
    "revenue",
    "refunded",
)
_PERSON_FIELDS = (
    "clicks_human",
    "clicks_bot",
    "clicks_preview",
    "shares",
    "signups",
    "purchases",
    "refunds",
    "revenue",
    "refunded",
)
_CHANNEL_FIELDS = ("clicks_human", "shares", "signups", "purchases")
_CONVERSIONS = ("signup", "purchase")


class EventRow(NamedTuple):
    """The columns of a ``referral_events`` row that the rollups read."""

    id: int
    campaign_id: int
    kind: str
    time: float
    referrer_id: int | None
    person_id: int | None
    value: float | None
    traffic: str | None
    channel: str | None
    visitor_id: str | None


EVENT_COLUMNS = tuple(EventRow._fields)
"""The ``referral_events`` columns of an :class:`EventRow`, in order (for ``RETURNING``)."""


def day_of(t: float) -> int:
    """The UTC day (days since 1970-01-01) of a valid time, else :data:`EXCLUDED_DAY`."""
    if not TIME.contains(t):
        return EXCLUDED_DAY
    return math.floor((t + _SHIFT) / _DAY) - _SHIFT_DAYS


def day_sql(conn: Connection, column: Any) -> ColumnElement[int]:
    """The SQL of :func:`day_of` for a valid time column (the same arithmetic, so that a
    rebuild buckets exactly like the writes)."""
    # Constants inline, not bound: PostgreSQL matches a GROUP BY expression to the selected
    # one by its text, and two binds of the same value are two different parameters.
    shifted = (column + literal_column(f"{_SHIFT:.1f}")) / literal_column(f"{_DAY:.1f}")
    if conn.dialect.name == "postgresql":
        shifted = func.floor(shifted)
    return cast(shifted, Integer) - literal_column(str(_SHIFT_DAYS))


def _valid(column: Any) -> ColumnElement[bool]:
    valid: ColumnElement[bool] = (column >= TIME.low) & (column < TIME.high)
    return valid


def _chunks(values: Iterable[Any]) -> Iterator[list[Any]]:
    items = sorted(set(values))
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


def _fields(kind: str, traffic: str | None, n: float, value: float) -> dict[str, float]:
    """The counters one event (or ``n`` alike, worth ``value`` together) adds."""
    if kind == "click":
        name = {"browser": "clicks_human", "preview": "clicks_preview"}.get(traffic or "")
        return {name or "clicks_bot": n}
    if kind == "share":
        return {"shares": n}
    if kind == "signup":
        return {"signups": n}
    if kind == "purchase":
        return {"purchases": n, "revenue": value}
    if kind == "refund":
        return {"refunds": n, "refunded": value}
    return {}


# ---------------------------------------------------------------------------- writing counters
class _Counters:
    """Counter deltas by key, written as ``INSERT ... ON CONFLICT DO UPDATE SET f = f + d``."""

    def __init__(self, table: Table, keys: tuple[str, ...], fields: tuple[str, ...]) -> None:
        self.table, self.keys, self.fields = table, keys, fields
        self.rows: dict[tuple[Any, ...], dict[str, float]] = defaultdict(dict)

    def add(self, key: tuple[Any, ...], deltas: dict[str, float], sign: float = 1.0) -> None:
        row = self.rows[key]
        for name, value in deltas.items():
            if name in self.fields:
                row[name] = row.get(name, 0) + sign * value

    def write(self, conn: Connection, **extra: Any) -> None:
        rows = [
            {
                **dict(zip(self.keys, key, strict=True)),
                **{f: deltas.get(f, 0) for f in self.fields},
                **extra,
            }
            for key, deltas in sorted(self.rows.items())  # a fixed order: no deadlocks
            if any(deltas.values()) or extra
        ]
        self.rows.clear()
        if rows:
            _upsert(conn, self.table, self.keys, self.fields, rows)


def _insert(conn: Connection, table: Table) -> Any:
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)


def _upsert(
    conn: Connection,
    table: Table,
    keys: tuple[str, ...],
    fields: tuple[str, ...],
    rows: list[dict[str, Any]],
) -> None:
    stmt = _insert(conn, table)
    if fields:
        stmt = stmt.on_conflict_do_update(
            index_elements=list(keys), set_={f: table.c[f] + stmt.excluded[f] for f in fields}
        )
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=list(keys))
    conn.execute(stmt, rows)


_BUCKETS: Table = ReferralRollup.__table__  # type: ignore[assignment]
_PEOPLE: Table = ReferrerRollup.__table__  # type: ignore[assignment]
_CHANNELS: Table = ReferrerChannelRollup.__table__  # type: ignore[assignment]
_REWARDS: Table = RewardRollup.__table__  # type: ignore[assignment]


def _buckets() -> _Counters:
    return _Counters(_BUCKETS, ("campaign_id", "day", "channel", "generation"), _BUCKET_FIELDS)


def _people() -> _Counters:
    return _Counters(_PEOPLE, ("campaign_id", "person_id"), _PERSON_FIELDS)


def _channels() -> _Counters:
    return _Counters(_CHANNELS, ("campaign_id", "person_id", "channel"), _CHANNEL_FIELDS)


# ---------------------------------------------------------------------------- generations
def _bucket_generation(referrer: int | None, generations: dict[int, int | None]) -> int:
    if referrer is None:
        return NO_REFERRER
    g = generations.get(referrer, 0)  # a referrer not stored yet is a new root
    return NO_GENERATION if g is None else g


def _generations(
    conn: Connection, campaign_id: int, persons: Iterable[int], *, lock: bool = False
) -> dict[int, int | None]:
    out: dict[int, int | None] = {}
    people = _PEOPLE.c
    for chunk in _chunks(persons):
        query = select(people.person_id, people.generation).where(
            people.campaign_id == campaign_id, people.person_id.in_(chunk)
        )
        if lock and conn.dialect.name == "postgresql":
            # A click batch locks its referrers' rows (in id order: two batches never
            # deadlock), so that a conversion moving them waits for the batch (or the batch
            # for it) and then moves (or buckets) the batch's clicks under the generation that
            # stands. Not a share lock: the batch updates the same rows right after.
            query = query.order_by(people.person_id).with_for_update()
        out.update({int(p): g for p, g in conn.execute(query)})
    return out


def _first_clicks(
    conn: Connection, campaign_ids: Sequence[int], visitors: Iterable[str]
) -> dict[tuple[int, str], list[tuple[float, int, str | None, int | None]]]:
    """Every valid human click of these visitors: ``(campaign, visitor) -> [(time, id,
    channel, referrer)]``."""
    out: dict[tuple[int, str], list[tuple[float, int, str | None, int | None]]] = defaultdict(list)
    e = ReferralEvent
    for chunk in _chunks(visitors):
        rows = conn.execute(
            select(e.campaign_id, e.visitor_id, e.time, e.id, e.channel, e.referrer_id).where(
                e.campaign_id.in_(list(campaign_ids)),
                e.visitor_id.in_(chunk),
                e.kind == "click",
                e.traffic == "browser",
            )
        )
        for cid, visitor, t, i, ch, ref in rows:
            # The time range in Python: in SQL it would tempt SQLite (no ANALYZE statistics)
            # onto the (campaign_id, kind, time) index, reading every click of the campaign.
            if TIME.contains(t):
                out[(int(cid), str(visitor))].append((float(t), int(i), ch, ref))
    return out


# ---------------------------------------------------------------------------- the write path
def apply_events(conn: Connection, rows: Sequence[EventRow]) -> None:
    """Add newly inserted events to the rollups, in the caller's transaction.

    ``rows`` must be events just inserted (and only those: a re-sent event that the insert
    skipped must not be passed). Clicks, shares, signups, purchases and refunds add to their
    day, channel and generation; their referrer's counters grow; a conversion may place its
    person in the acquisition tree (or move them, when it is earlier than their first one),
    which moves the events of every person whose generation changes.
    """
    by_campaign: dict[int, list[EventRow]] = defaultdict(list)
    for row in rows:
        by_campaign[int(row.campaign_id)].append(row)
    for campaign_id in sorted(by_campaign):
        _apply_campaign(conn, campaign_id, by_campaign[campaign_id])


def _apply_campaign(conn: Connection, campaign_id: int, rows: list[EventRow]) -> None:
    buckets = _buckets()
    valid = [r for r in rows if TIME.contains(r.time)]
    for r in rows:
        if not TIME.contains(r.time):
            key = (campaign_id, EXCLUDED_DAY, r.channel or DIRECT, NO_REFERRER)
            buckets.add(key, _fields(r.kind, r.traffic, 1, float(r.value or 0.0)))
    batch = {int(r.id) for r in valid}
    visitors = {
        str(r.visitor_id)
        for r in valid
        if r.kind == "click" and r.traffic == "browser" and r.visitor_id
    }
    moves: list[tuple[tuple[float, int, str | None, int | None] | None, Any]] = []
    for clicks in _first_clicks(conn, [campaign_id], visitors).values():
        before = [c for c in clicks if c[1] not in batch]
        prior = min(before) if before else None
        first = min(clicks)
        if prior != first:
            moves.append((prior, first))
    referrers = {int(r.referrer_id) for r in valid if r.referrer_id is not None}
    referrers.update(c[3] for move in moves for c in move if c is not None and c[3] is not None)
    generations = _generations(conn, campaign_id, referrers, lock=True)
    people, channels = _people(), _channels()
    for r in valid:
        fields = _fields(r.kind, r.traffic, 1, float(r.value or 0.0))
        channel = r.channel or DIRECT
        g = _bucket_generation(r.referrer_id, generations)
        buckets.add((campaign_id, day_of(r.time), channel, g), fields)
        if r.referrer_id is not None:
            people.add((campaign_id, int(r.referrer_id)), fields)
            channels.add((campaign_id, int(r.referrer_id), channel), fields)
    for prior, first in moves:
        for click, sign in ((prior, -1.0), (first, 1.0)):
            if click is not None:
                t, _, via, ref = click
                g = _bucket_generation(ref, generations)
                buckets.add((campaign_id, day_of(t), via or DIRECT, g), {"visitors": sign})
    buckets.write(conn)
    people.write(conn, generation=0)  # a referrer stored for the first time: a root
    channels.write(conn)
    conversions = sorted(
        (r for r in valid if r.kind in _CONVERSIONS and r.person_id is not None),
        key=lambda r: (r.time, r.id),
    )
    for r in conversions:
        _convert(conn, campaign_id, r)


_TREE_COLUMNS = (
    "referred_by",
    "generation",
    "first_at",
    "first_event_id",
    "first_signup_at",
    "first_purchase_at",
)


def _person(conn: Connection, campaign_id: int, person_id: int) -> dict[str, Any]:
    """The person's tree columns (their row is created as a root when missing), locked."""
    _upsert(
        conn,
        _PEOPLE,
        ("campaign_id", "person_id"),
        (),
        [{"campaign_id": campaign_id, "person_id": person_id, "generation": 0}],
    )
    people = _PEOPLE.c
    query = select(*(people[c] for c in _TREE_COLUMNS)).where(
        people.campaign_id == campaign_id, people.person_id == person_id
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).one()
    return dict(zip(_TREE_COLUMNS, row, strict=True))


def _set(conn: Connection, campaign_id: int, person_id: int, **values: Any) -> None:
    people = _PEOPLE.c
    conn.execute(
        _PEOPLE.update()
        .where(people.campaign_id == campaign_id, people.person_id == person_id)
        .values(**values)
    )


def _convert(conn: Connection, campaign_id: int, r: EventRow) -> None:
    """Place the person of a conversion in the acquisition tree."""
    person = int(r.person_id)  # type: ignore[arg-type]
    old = _person(conn, campaign_id, person)
    new = dict(old)
    column = f"first_{r.kind}_at"
    if new[column] is None or r.time < new[column]:
        new[column] = float(r.time)
    if old["first_at"] is None or (r.time, r.id) < (old["first_at"], old["first_event_id"]):
        new["first_at"], new["first_event_id"] = float(r.time), int(r.id)
        ref = r.referrer_id
        new["referred_by"] = None if ref is None or int(ref) == person else int(ref)
    if new == old:
        return
    people = _PEOPLE.c
    changed = {k: v for k, v in new.items() if v != old[k]}
    _set(conn, campaign_id, person, **changed)
    # The customers each referrer brought: move this person between referrers' counts.
    counts = _Counters(
        _PEOPLE,
        ("campaign_id", "person_id"),
        ("referred_signup_people", "referred_purchase_people"),
    )
    for sign, state in ((-1.0, old), (1.0, new)):
        if state["referred_by"] is not None:
            counts.add(
                (campaign_id, state["referred_by"]),
                {
                    "referred_signup_people": float(state["first_signup_at"] is not None),
                    "referred_purchase_people": float(state["first_purchase_at"] is not None),
                },
                sign,
            )
    counts.write(conn, generation=0)
    ref = new["referred_by"]
    parent = None if ref is None else _person(conn, campaign_id, ref)
    cycles: dict[str, float | None] = {}
    for kind in _CONVERSIONS:
        mine = new[f"first_{kind}_at"]
        theirs = None if parent is None else parent[f"first_{kind}_at"]
        cycles[f"cycle_{kind}_s"] = None if mine is None or theirs is None else mine - theirs
        if mine is not None and mine != old[f"first_{kind}_at"]:  # the children's cycles
            conn.execute(
                _PEOPLE.update()
                .where(
                    people.campaign_id == campaign_id,
                    people.referred_by == person,
                    people[f"first_{kind}_at"].is_not(None),
                )
                .values({f"cycle_{kind}_s": people[f"first_{kind}_at"] - mine})
            )
    _set(conn, campaign_id, person, **cycles)
    if ref != old["referred_by"]:
        _regenerate(conn, campaign_id, person, ref, old["generation"])


def _regenerate(
    conn: Connection, campaign_id: int, person: int, ref: int | None, before: int | None
) -> None:
    """Give ``person`` (now referred by ``ref``) and their subtree their new generations,
    and move their events to the rollup rows of those generations."""
    people = _PEOPLE.c
    generation: int | None = 0
    if ref is not None:
        node: int | None = ref
        seen: set[int] = set()
        while node is not None and node != person and node not in seen:
            seen.add(node)
            node = conn.execute(
                select(people.referred_by).where(
                    people.campaign_id == campaign_id, people.person_id == node
                )
            ).scalar_one_or_none()
        if node is not None:  # back to the person (a cycle), or onto another cycle
            generation = None
        else:  # the chain above ``ref`` does not pass through the person: its figures stand
            g = _generations(conn, campaign_id, [ref]).get(ref, 0)
            generation = None if g is None else g + 1
    if generation == before:
        return
    changes: dict[int, tuple[int | None, int | None]] = {person: (before, generation)}
    _set(conn, campaign_id, person, generation=generation)
    frontier: dict[int, int | None] = {person: generation}
    while frontier:
        following: dict[int, int | None] = {}
        for chunk in _chunks(frontier):
            for child, g, parent in conn.execute(
                select(people.person_id, people.generation, people.referred_by).where(
                    people.campaign_id == campaign_id, people.referred_by.in_(chunk)
                )
            ).all():
                if int(child) in changes:
                    continue  # round a cycle: every one on it is done
                above = frontier[int(parent)]
                want = None if above is None else above + 1
                if want != g:
                    changes[int(child)] = (g, want)
                    following[int(child)] = want
        for child, want in following.items():
            _set(conn, campaign_id, child, generation=want)
        frontier = following
    _move(conn, campaign_id, changes)


def _move(
    conn: Connection, campaign_id: int, changes: dict[int, tuple[int | None, int | None]]
) -> None:
    """Move the events credited to these persons from the rollup rows of their old
    generation to those of the new one (``person -> (old, new)``)."""

    def bucket(g: int | None) -> int:
        return NO_GENERATION if g is None else g

    buckets = _buckets()
    e = ReferralEvent
    day = day_sql(conn, e.time)
    visitors: set[str] = set()
    for chunk in _chunks(changes):
        rows: Sequence[Any] = conn.execute(
            select(
                day, e.channel, e.referrer_id, e.kind, e.traffic, func.count(), func.sum(e.value)
            )
            .where(e.campaign_id == campaign_id, e.referrer_id.in_(chunk), _valid(e.time))
            .group_by(day, e.channel, e.referrer_id, e.kind, e.traffic)
        ).all()
        for d, channel, ref, kind, traffic, n, total in rows:
            old, new = changes[int(ref)]
            fields = _fields(kind, traffic, int(n), float(total or 0.0))
            buckets.add((campaign_id, int(d), channel or DIRECT, bucket(old)), fields, -1.0)
            buckets.add((campaign_id, int(d), channel or DIRECT, bucket(new)), fields)
        visitors.update(
            str(v)
            for v in conn.scalars(
                select(e.visitor_id)
                # Candidates only, by the referrer index (no DISTINCT: SQLite would read
                # the visitor index instead); _first_clicks decides.
                .where(e.campaign_id == campaign_id, e.referrer_id.in_(chunk))
            )
            if v is not None
        )
    for clicks in _first_clicks(conn, [campaign_id], visitors).values():
        t, _, channel, ref = min(clicks)
        if ref is not None and int(ref) in changes:
            old, new = changes[int(ref)]
            key = (campaign_id, day_of(t), channel or DIRECT)
            buckets.add((*key, bucket(old)), {"visitors": 1}, -1.0)
            buckets.add((*key, bucket(new)), {"visitors": 1})
    buckets.write(conn)


# ---------------------------------------------------------------------------- reading
def referrer_figures(session: Session, *, campaign_id: int, person_id: int) -> dict[str, Any]:
    """What one person brought in as a referrer, from their rollup rows (two primary-key
    reads, however busy they are): ``clicks`` (human), ``clicks_by_channel``, ``shares``,
    ``signups``, ``purchases``, ``refunds``, ``customers`` (referred persons who bought),
    ``revenue`` and their ``generation``."""
    p = _PEOPLE.c
    row = session.execute(
        select(
            p.clicks_human,
            p.shares,
            p.signups,
            p.purchases,
            p.refunds,
            p.referred_purchase_people,
            p.revenue,
            p.generation,
        ).where(p.campaign_id == campaign_id, p.person_id == person_id)
    ).first()
    c = _CHANNELS.c
    by_channel = {
        str(channel): int(n)
        for channel, n in session.execute(
            select(c.channel, c.clicks_human)
            .where(c.campaign_id == campaign_id, c.person_id == person_id, c.clicks_human > 0)
            .order_by(c.channel)
        )
    }
    names = ("clicks", "shares", "signups", "purchases", "refunds", "customers")
    out: dict[str, Any] = dict.fromkeys(names, 0)
    out.update(revenue=0.0, generation=0, clicks_by_channel=by_channel)
    if row is not None:
        out.update({name: int(v) for name, v in zip(names, row[:6], strict=True)})
        out.update(revenue=round(float(row.revenue), 2), generation=row.generation)
    return out


# ---------------------------------------------------------------------------- rewards
RewardDelta = tuple[float, int, str, float, int | None]
"""``(sign, campaign_id, status, amount, person_id)``: a reward added (+1) or taken (-1)."""


def apply_rewards(conn: Connection, deltas: Sequence[RewardDelta]) -> None:
    """Add (sign +1) or take away (-1) rewards from the rollups, in the caller's
    transaction. Amounts outside :data:`~grapevine._validation.MONEY` are left out."""
    totals = _Counters(_REWARDS, ("campaign_id", "status"), ("count", "amount"))
    people = _Counters(_PEOPLE, ("campaign_id", "person_id"), ("rewards", "rewards_amount"))
    for sign, campaign_id, status, amount, person in deltas:
        if not MONEY.contains(amount):
            continue
        totals.add((campaign_id, status), {"count": 1, "amount": float(amount)}, sign)
        if person is not None:  # every person with a reward has a row, kept or not
            kept = {"rewards": 1, "rewards_amount": float(amount)} if status not in KEPT_OFF else {}
            people.add((campaign_id, int(person)), kept, sign)
    totals.write(conn)
    people.write(conn, generation=0)


def _reward_deltas(session: Session) -> list[RewardDelta]:
    from sqlalchemy import inspect

    out: list[RewardDelta] = []
    for obj in session.new:
        if isinstance(obj, Reward):
            out.append((1.0, obj.campaign_id, obj.status, obj.amount, obj.person_id))
    for obj in session.deleted:
        if isinstance(obj, Reward):
            out.append((-1.0, obj.campaign_id, obj.status, obj.amount, obj.person_id))
    for obj in session.dirty:
        if not isinstance(obj, Reward):
            continue
        state = inspect(obj)
        before = []
        for name in ("status", "amount", "person_id"):
            history = state.attrs[name].history
            before.append(history.deleted[0] if history.deleted else getattr(obj, name))
        now = (obj.status, obj.amount, obj.person_id)
        if tuple(before) != now:
            out.append((-1.0, obj.campaign_id, before[0], before[1], before[2]))
            out.append((1.0, obj.campaign_id, *now))
    return out


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, context: UOWTransaction) -> None:
    del context
    inserted = [
        EventRow(*(getattr(obj, name) for name in EVENT_COLUMNS))
        for obj in session.new
        if isinstance(obj, ReferralEvent)
    ]
    rewards = _reward_deltas(session)
    if inserted or rewards:
        conn = session.connection()
        apply_events(conn, inserted)
        apply_rewards(conn, rewards)


# ---------------------------------------------------------------------------- erasure
def erasing(
    session: Session,
    *,
    campaign_ids: Sequence[int],
    person_id: int,
    tomb_id: int,
    visitor_ids: Sequence[str],
) -> None:
    """Follow an erasure in the rollups: call it before the events are scrubbed.

    The erased person's rows are re-pointed to the tombstone (figures unchanged); their
    visitor ids are about to be forgotten, so each leaves the visitor count of the day,
    channel and generation of its first human click.
    """
    conn = session.connection()
    campaign_ids = list(campaign_ids)
    if not campaign_ids:
        return
    firsts = _first_clicks(conn, campaign_ids, visitor_ids)
    by_campaign: dict[int, list[tuple[float, int, str | None, int | None]]] = defaultdict(list)
    for (campaign_id, _), clicks in firsts.items():
        by_campaign[campaign_id].append(min(clicks))
    for campaign_id, clicks in by_campaign.items():
        refs = {c[3] for c in clicks if c[3] is not None}
        generations = _generations(conn, campaign_id, refs)
        buckets = _buckets()
        for t, _, channel, ref in clicks:
            g = _bucket_generation(ref, generations)
            buckets.add((campaign_id, day_of(t), channel or DIRECT, g), {"visitors": 1}, -1.0)
        buckets.write(conn)
    for table in (_PEOPLE, _CHANNELS):
        conn.execute(
            table.update()
            .where(table.c.campaign_id.in_(campaign_ids), table.c.person_id == person_id)
            .values(person_id=tomb_id)
        )
    conn.execute(
        _PEOPLE.update()
        .where(_PEOPLE.c.campaign_id.in_(campaign_ids), _PEOPLE.c.referred_by == person_id)
        .values(referred_by=tomb_id)
    )

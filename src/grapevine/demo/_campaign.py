"""The demo's referral campaign: a simulated programme run through the real workflows.

:func:`grapevine.demo._trace.referral_trace` says who refers whom on the Ciao trust
network and when; this module plays it into the store the way a shop's traffic would:
each person enrols (:func:`grapevine.referrals.enrol`), each click on a link is a click
event (the row the ``/r/{code}`` redirect writes, with the link's channel and the
visitor's cookie), each sign-up, purchase and refund goes through
:func:`grapevine.referrals.record_event` (attribution, fraud assessment, rewards). A few
participants then game the programme (friends with throw-away addresses, a second account
on the same device): the real fraud checks send those conversions to the review queue.
Participants are known by simulated addresses ``ciao<id>@people.example``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from grapevine.graph import Graph
from grapevine.store import Store, tenants_repo
from grapevine.store.models import ReferralEvent

__all__ = [
    "CAMPAIGN",
    "SALT",
    "STRENGTH",
    "CampaignDemo",
    "campaign_demo",
    "conversions",
]

SALT = "grapevine-demo"
"""The secret the demo's device ids are hashed with (not a production secret)."""

CAMPAIGN: dict[str, Any] = {
    "name": "Friends of the shop",
    "goal": "New customers through the people who already trust our reviewers",
    "offer": {
        "referrer": {"kind": "fixed", "amount": 10},
        "friend": {"kind": "percent", "amount": 15, "max_amount": 20},
        "tiers": [{"referrals": 5, "bonus": 25}],
        "hold_seconds": 7 * 86_400,
        "budget": 20_000,
    },
    "destinations": ["https://shop.example/"],
    "window_days": 30,
    "attribution": "last",
    "currency": "EUR",
}
"""The demo campaign's document (as ``POST /api/campaigns`` takes it)."""

STRENGTH = 0.5
"""The factor on the weighted-cascade probabilities: half, so that from the plan's 20 seeds
about 200 people sign up in 8 weeks (K below 1, as in most real programmes)."""

_WEEKS = 8
_DAY = 86_400.0
_USER_AGENT = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Safari/604.1"


@dataclass(frozen=True)
class CampaignDemo:
    """What the campaign step stored."""

    campaign_id: int
    seeds: tuple[str, ...]
    participants: int
    clicks: int
    signups: int
    purchases: int
    refunds: int
    held_for_review: int


def _email(person: object) -> str:
    return f"ciao{person}@people.example"


def conversions(trace: pd.DataFrame) -> pd.DataFrame:
    """The exposures of the trace as :func:`grapevine.roles.influencer_roles` reads them:
    ``exposer``, ``exposed``, ``converted`` (signed up), ``time`` (the click)."""
    shared = trace[trace["referrer"].notna()]
    return pd.DataFrame(
        {
            "exposer": shared["referrer"].astype(str).to_numpy(),
            "exposed": shared["person"].astype(str).to_numpy(),
            "converted": shared["signup_time"].notna().astype(int).to_numpy(),
            "time": shared["click_time"].to_numpy(),
        }
    )


def campaign_demo(
    store: Store,
    graph: Graph,
    seeds: list[object],
    *,
    now: float,
    tenant: str,
    random_state: int = 0,
) -> tuple[CampaignDemo, pd.DataFrame]:
    """Create the demo campaign and play a simulated programme into it.

    Returns the step's counts and the trace (for the salesman scores of the roles).
    """
    from grapevine.demo._trace import referral_trace

    start = now - _WEEKS * 7 * _DAY
    trace = referral_trace(
        graph, seeds, start=start, end=now, strength=STRENGTH, random_state=random_state
    )
    with Session(store.engine, expire_on_commit=False) as session:
        tenant_id = tenants_repo.get_or_create_tenant(session, slug=tenant).id
        campaign_id = _create(session, tenant_id=tenant_id, start=start)
        session.commit()
        played = _Player(session, campaign_id, trace)
        played.play()
        played.fraud(np.random.default_rng(random_state + 1), now=now)
        played.commit_clicks()
    return (
        CampaignDemo(
            campaign_id=campaign_id,
            seeds=tuple(str(s) for s in seeds),
            participants=played.enrolled,
            clicks=played.clicks,
            signups=played.signups,
            purchases=played.purchases,
            refunds=played.refunds,
            held_for_review=played.held,
        ),
        trace,
    )


def _create(session: Session, *, tenant_id: int, start: float) -> int:
    from grapevine.referrals import create_campaign

    created = create_campaign(
        session, tenant_id=tenant_id, document=CAMPAIGN, actor="grapevine demo", now=start
    )
    return int(created.id)


class _Player:
    """Plays a trace into the store, event by event, in time order."""

    def __init__(self, session: Session, campaign_id: int, trace: pd.DataFrame) -> None:
        self.session = session
        self.campaign_id = campaign_id
        self.trace = trace
        self.codes: dict[str, str] = {}
        self.person_ids: dict[str, int] = {}
        self.enrolled = self.clicks = self.signups = self.purchases = self.refunds = 0
        self.held = 0
        self.pending = 0

    def _timeline(self) -> list[tuple[float, int, str, int]]:
        order = {"click": 0, "signup": 1, "purchase": 2, "refund": 3}
        items = []
        for i, row in enumerate(self.trace.itertuples(index=False)):
            for kind, t in (
                ("click", row.click_time),
                ("signup", row.signup_time),
                ("purchase", row.purchase_time),
                ("refund", row.refund_time),
            ):
                if not math.isnan(t):
                    items.append((float(t), order[kind], kind, i))
        return sorted(items)

    def play(self) -> None:
        rows = list(self.trace.itertuples(index=False))
        for t, _, kind, i in self._timeline():
            row = rows[i]
            person = str(row.person)
            if kind == "click":
                self._click(person, str(row.referrer), row.channel, t, key=f"click-{i}")
            elif kind == "signup":
                visitor = None if row.referrer is None or pd.isna(row.referrer) else person
                self._convert("signup", person, t, visitor=visitor, key=f"signup-{person}")
                self._enrol(person, t)
            elif kind == "purchase":
                self._convert(
                    "purchase",
                    person,
                    t,
                    visitor=person,
                    key=f"purchase-{person}",
                    order=f"order-{person}",
                    value=float(row.value),
                )
            else:
                self._convert("refund", person, t, key=f"refund-{person}", order=f"order-{person}")

    def _enrol(
        self, person: str, t: float, *, device: str | None = None, email: str | None = None
    ) -> None:
        from grapevine.referrals import enrol

        self.commit_clicks()
        done = enrol(
            self.session,
            campaign_id=self.campaign_id,
            email=email or _email(person),
            salt=SALT,
            device_id=device or f"device-{person}",
            now=t,
        )
        self.session.commit()
        self.codes[person] = done.code
        self.person_ids[person] = done.person_id
        self.enrolled += int(done.created)

    def _click(self, visitor: str, referrer: str, channel: str | None, t: float, key: str) -> None:
        """A click as the redirect records it; clicks are committed in groups (the
        redirect's group commit), before the next conversion or enrolment."""
        code = self.codes.get(referrer)
        if code is None:
            return
        self.session.add(
            ReferralEvent(
                campaign_id=self.campaign_id,
                kind="click",
                time=t,
                code=code,
                referrer_id=self.person_ids[referrer],
                idempotency_key=key,
                visitor_id=f"visitor-{visitor}",
                traffic="browser",
                channel=channel,
                user_agent=_USER_AGENT,
            )
        )
        self.pending += 1
        self.clicks += 1

    def commit_clicks(self) -> None:
        if self.pending:
            self.session.commit()
            self.pending = 0

    def _convert(
        self,
        kind: str,
        person: str,
        t: float,
        *,
        key: str,
        visitor: str | None = None,
        order: str | None = None,
        value: float | None = None,
        email: str | None = None,
    ) -> None:
        from grapevine.referrals import EventInput, record_event

        self.commit_clicks()
        done = record_event(
            self.session,
            campaign_id=self.campaign_id,
            event=EventInput(
                kind=kind,
                idempotency_key=key,
                email=email or _email(person),
                visitor_id=None if visitor is None else f"visitor-{visitor}",
                order_id=order,
                value=value,
                currency="EUR" if value is not None else None,
                time=t,
            ),
            salt=SALT,
            now=t,
        )
        self.signups += kind == "signup"
        self.purchases += kind == "purchase"
        self.refunds += kind == "refund"
        self.held += any(r.status == "review" for r in done.rewards)

    def fraud(self, rng: np.random.Generator, *, now: float) -> None:
        """Three participants game the programme in its last week: each sends their link to
        throw-away addresses that buy at once, one of them from their own device."""
        cheats = sorted(self.codes)[:3]
        for n, cheat in enumerate(cheats):
            for j in range(4):
                fake = f"fake{n}{j}"
                t = now - rng.uniform(1.0, 5.0) * _DAY
                self._click(fake, cheat, "copy", t, key=f"click-{fake}")
                email = f"deal{n}{j}@mailinator.com"
                self._convert(
                    "signup", fake, t + 60, visitor=fake, key=f"signup-{fake}", email=email
                )
                if j == 0:  # a second account on the cheat's own device
                    self._enrol(fake, t + 90, device=f"device-{cheat}", email=email)
                self._convert(
                    "purchase",
                    fake,
                    t + 120 + j,
                    visitor=fake,
                    key=f"purchase-{fake}",
                    order=f"order-{fake}",
                    value=round(float(rng.uniform(20, 40)), 2),
                    email=email,
                )

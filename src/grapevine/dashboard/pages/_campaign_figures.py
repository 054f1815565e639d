"""The figures, charts and tables of the campaign pages, from the referral workflows.

Nothing is computed here that the library does not: :func:`grapevine.referrals.
campaign_stats` gives the funnel by channel, K by generation and by weekly cohort, the
cycle time and the rewards by state (each missing figure with its reason), the rewards
in review among them; :func:`grapevine.referrals.leaderboard` the referrers. This module
only lays them out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import quote

from sqlalchemy.orm import Session

from grapevine import referrals as rf
from grapevine.dashboard._charts import Chart, bar_chart, line_chart, pie_chart
from grapevine.dashboard._tables import Table

__all__ = ["CampaignFigures", "campaign_figures", "campaign_rows"]

_ACTIONS = {
    "active": (("pause", "Pause"), ("end", "End")),
    "paused": (("resume", "Resume"), ("end", "End")),
    "ended": (),
}
_REASON_NAMES = {
    "k_factor": "K-factor",
    "cycle_time_days": "Cycle time",
    "cycle_time_median_s": "Cycle time",
    "k_by_generation": "K by generation",
    "k_by_week": "K by weekly cohort",
    "projected_customers": "Projection",
}


@dataclass(frozen=True)
class CampaignFigures:
    """What the campaign page shows."""

    figures: list[tuple[str, object, str | None]]
    reasons: list[tuple[str, str]]
    charts: dict[str, Chart]
    tables: list[Table]
    actions: Sequence[tuple[str, str]]
    held: int
    """Rewards waiting in the review queue (from the stats: no second scan)."""
    stats: rf.CampaignStats = field(repr=False)


def campaign_rows(session: Session, campaigns: Sequence[rf.CampaignView], *, tenant: str) -> Table:
    """The campaigns table of the list page (one row a campaign, its name a link)."""
    rows, links = [], []
    for c in campaigns:
        s = rf.campaign_stats(session, campaign_id=c.id)
        rows.append(
            (
                c.name,
                c.status,
                s.participants,
                s.clicks.get("human", 0),
                s.signups,
                s.purchases,
                round(s.revenue),
                None if s.k_factor is None else round(s.k_factor, 3),
            )
        )
        links.append(f"/campaigns/{c.id}?tenant={quote(tenant)}")
    return Table(
        "campaigns",
        ["Name", "Status", "Participants", "Clicks", "Sign-ups", "Purchases", "Revenue", "K"],
        rows,
        caption="Campaigns",
        links={"Name": links},
    )


def _cohort_table(name: str, caption: str, cohorts: Sequence[rf.CohortK]) -> Table:
    return Table(
        name,
        ["Cohort", "Adopters", "Invitations", "Sign-ups", "Purchases", "K"],
        [
            (
                c.cohort,
                c.adopters,
                c.invitations,
                c.signups,
                c.purchases,
                None if c.k is None else round(c.k, 3),
            )
            for c in cohorts
        ],
        caption=caption,
    )


def campaign_figures(
    session: Session, campaign: rf.CampaignView, *, tenant: str
) -> CampaignFigures:
    """Figures, charts and tables of one campaign."""
    s = rf.campaign_stats(session, campaign_id=campaign.id)
    board = rf.leaderboard(session, campaign_id=campaign.id, by="signups", limit=20)
    money = campaign.currency or ""
    figures: list[tuple[str, object, str | None]] = [
        ("Participants", s.participants, None),
        ("Clicks", s.clicks.get("human", 0), f"{s.clicks.get('bot', 0):,} bots left out"),
        ("Sign-ups", s.signups, f"{s.referred_signups:,} referred"),
        ("Purchases", s.purchases, f"{s.referred_purchases:,} referred, {s.refunds:,} refunded"),
        ("Revenue", round(s.revenue), money or None),
        (
            "K-factor",
            "–" if s.k_factor is None else round(s.k_factor, 3),
            f"{s.conversion_event}s per converted participant",
        ),
        (
            "Cycle time",
            "–" if s.cycle_time_days is None else round(s.cycle_time_days, 2),
            "days, median",
        ),
    ]
    reasons = sorted({(_REASON_NAMES.get(k, k), v) for k, v in s.reasons.items()})
    channels = sorted(s.channels, key=lambda ch: -s.channels[ch].get("clicks", 0))
    steps = ("clicks", "signups", "purchases")
    funnel = Table(
        "funnel",
        ["Channel", "Clicks", "Sign-ups", "Purchases", "Sign-ups per click"],
        [
            (
                ch,
                *(s.channels[ch].get(k, 0) for k in steps),
                round(s.channels[ch].get("signups", 0) / s.channels[ch]["clicks"], 3)
                if s.channels[ch].get("clicks")
                else None,
            )
            for ch in channels
        ],
        caption="Funnel by channel",
    )
    rewards = Table(
        "rewards",
        ["State", "Rewards", "Amount"],
        [
            (state, int(v.get("count", 0)), round(v.get("amount", 0.0)))
            for state, v in s.rewards.items()
        ],
        caption="Rewards by state",
    )
    generations = _cohort_table("generations", "K by generation", s.k_by_generation)
    cohorts = _cohort_table("cohorts", "K by weekly cohort", s.k_by_week)
    leaders = Table(
        "leaderboard",
        ["Rank", "Referrer", "Clicks", "Sign-ups", "Customers", "Revenue", "Rewards", "Gen."],
        [
            (
                e.rank,
                e.email or f"person {e.person_id}",
                e.clicks,
                e.signups,
                e.customers,
                round(e.revenue),
                round(e.rewards),
                e.generation,
            )
            for e in board
        ],
        caption="Leaderboard of referrers (by sign-ups)",
    )
    charts = {
        "funnel": bar_chart(
            "funnel-chart",
            "Clicks, sign-ups and purchases by channel",
            channels,
            {k: [s.channels[ch].get(k, 0) for ch in channels] for k in steps},
        ),
        "rewards": pie_chart(
            "rewards-chart",
            "Reward amounts by state",
            {state: v.get("amount", 0.0) for state, v in s.rewards.items()},
        ),
        "generations": bar_chart(
            "generations-chart",
            "K-factor by generation",
            [c.cohort for c in s.k_by_generation],
            {"K": [c.k for c in s.k_by_generation]},
        ),
        "cohorts": line_chart(
            "cohorts-chart",
            "K-factor by weekly cohort",
            [c.cohort for c in s.k_by_week],
            {"K": [c.k for c in s.k_by_week]},
        ),
    }
    return CampaignFigures(
        figures=figures,
        reasons=reasons,
        charts=charts,
        tables=[funnel, rewards, generations, cohorts, leaders],
        actions=_ACTIONS.get(campaign.status, ()),
        held=int(s.rewards.get("review", {}).get("count", 0)),
        stats=s,
    )

"""Offers and the reward ledger: double-sided rewards, milestones, caps, hold, clawback."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grapevine.errors import BadInput, InvalidParameter
from grapevine.referrals import (
    Incentive,
    LedgerEvent,
    Offer,
    RewardLedger,
    RiskDecision,
    Tier,
    compute_rewards,
    review_queue,
)

DAY = 86400.0


def buy(
    key: str,
    t: float,
    friend: str,
    referrer: str | None = "ann",
    value: float = 100.0,
    order: str | None = None,
) -> LedgerEvent:
    return LedgerEvent(
        key, "purchase", t, friend, order or f"o-{key}", referrer=referrer, value=value
    )


def refund(key: str, t: float, order: str, person: str = "x") -> LedgerEvent:
    return LedgerEvent(key, "refund", t, person, order)


def summary(rewards: tuple) -> list[tuple[str, str, float, str]]:  # type: ignore[type-arg]
    return [(r.person, r.role, r.amount, r.status) for r in rewards]


@pytest.mark.parametrize(
    ("incentive", "order", "value"),
    [
        (Incentive("percent", 10), 100.0, 10.0),
        (Incentive("percent", 10), 33.33, 3.33),
        (Incentive("percent", 10, max_amount=5), 100.0, 5.0),
        (Incentive("percent", 0), 100.0, 0.0),
        (Incentive("percent", 100), 42.5, 42.5),
        (Incentive("fixed", 7.5), 1.0, 7.5),
        (Incentive("fixed", 7.5, max_amount=5), 1.0, 5.0),
    ],
)
def test_incentive_value(incentive: Incentive, order: float, value: float) -> None:
    assert incentive.value(order) == value


@pytest.mark.parametrize(
    "kwargs",
    [
        {"kind": "bogus", "amount": 1},
        {"kind": "percent", "amount": 101},
        {"kind": "percent", "amount": -1},
        {"kind": "fixed", "amount": math.nan},
        {"kind": "fixed", "amount": 1, "max_amount": -1},
    ],
)
def test_bad_incentive(kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidParameter):
        Incentive(**kwargs)  # type: ignore[arg-type]


def test_bad_offer_and_tier() -> None:
    with pytest.raises(InvalidParameter):
        Tier(0, 10)
    with pytest.raises(InvalidParameter):
        Offer({"kind": "fixed"}, Incentive("fixed", 1))  # type: ignore[arg-type]
    with pytest.raises(InvalidParameter):
        Offer(Incentive("fixed", 1), Incentive("fixed", 1), hold_seconds=-1)
    with pytest.raises(InvalidParameter):
        Offer(Incentive("fixed", 1), Incentive("fixed", 1), budget=-5)
    with pytest.raises(BadInput):
        Offer.from_dict({"referrer": {"kind": "fixed", "amount": 1}})
    with pytest.raises(InvalidParameter):
        RewardLedger("offer")  # type: ignore[arg-type]


def test_offer_from_dict_sorts_tiers() -> None:
    offer = Offer.from_dict(
        {
            "referrer": {"kind": "fixed", "amount": 10},
            "friend": {"kind": "percent", "amount": 15, "max_amount": 20},
            "tiers": [{"referrals": 10, "bonus": 100}, {"referrals": 3, "bonus": 20}],
            "hold_seconds": 0,
        }
    )
    assert [t.referrals for t in offer.tiers] == [3, 10]
    assert offer.friend.max_amount == 20


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        (buy("e", 0, "bob", referrer=None), "no referrer"),
        (buy("e", 0, "ann", referrer="ann"), "self-referral"),
        (buy("e", 0, "bob", value=5.0), "below the minimum"),
        (refund("e", 0, "nope"), "without rewards"),
    ],
)
def test_events_that_give_nothing(event: LedgerEvent, reason: str) -> None:
    offer = Offer(Incentive("fixed", 10), Incentive("fixed", 5), min_order_value=10)
    ledger = RewardLedger(offer).extend([event])
    assert ledger.rewards(now=1e9) == ()
    assert reason in ledger.skipped[0][1]


def test_only_first_purchase_qualifies() -> None:
    offer = Offer(Incentive("fixed", 10), Incentive("fixed", 5))
    ledger = RewardLedger(offer).extend([buy("e1", 0, "bob"), buy("e2", 1, "bob", referrer="cat")])
    assert len(ledger.rewards(now=0)) == 2
    assert "first purchase" in ledger.skipped[0][1]


def test_hold_then_grant() -> None:
    offer = Offer(Incentive("fixed", 10), Incentive("percent", 20), hold_seconds=14 * DAY)
    ledger = RewardLedger(offer).extend([buy("e1", 1000.0, "bob", value=50)])
    assert summary(ledger.rewards(now=1000.0)) == [
        ("bob", "friend", 10.0, "pending"),
        ("ann", "referrer", 10.0, "pending"),
    ]
    assert {r.status for r in ledger.rewards(now=1000.0 + 14 * DAY)} == {"granted"}
    assert ledger.rewards(now=0)[0].available_at == 1000.0 + 14 * DAY
    assert ledger.balance("ann", now=1000.0) == 0
    assert ledger.balance("ann", now=2e6) == 10


def test_refund_during_hold_voids_and_after_claws_back() -> None:
    offer = Offer(Incentive("fixed", 10), Incentive("fixed", 5), hold_seconds=100)
    during = RewardLedger(offer).extend([buy("e1", 0, "bob", order="o1"), refund("r1", 50, "o1")])
    assert [r.status for r in during.rewards(now=1000)] == ["void", "void"]
    after = RewardLedger(offer).extend([buy("e1", 0, "bob", order="o1"), refund("r1", 150, "o1")])
    assert [r.status for r in after.rewards(now=1000)] == ["clawed_back", "clawed_back"]
    assert after.balance("ann", now=1000) == 0
    assert after.committed() == 0


def test_refund_is_idempotent_and_second_refund_noop() -> None:
    offer = Offer(Incentive("fixed", 10), Incentive("fixed", 5), hold_seconds=0)
    ledger = RewardLedger(offer).extend([buy("e1", 0, "bob", order="o1"), refund("r1", 5, "o1")])
    before = ledger.rewards(now=10)
    assert ledger.add(refund("r1", 5, "o1")) is False
    assert ledger.add(refund("r2", 6, "o1")) is True
    assert ledger.rewards(now=10) == before


def test_referrer_count_cap_and_freed_slot() -> None:
    offer = Offer(Incentive("fixed", 10), Incentive("fixed", 5), max_referrals_per_referrer=2)
    ledger = RewardLedger(offer).extend(
        [
            buy("e1", 0, "f1"),
            buy("e2", 1, "f2"),
            buy("e3", 2, "f3"),
            refund("r1", 3, "o-e1"),
            buy("e4", 4, "f4"),
        ]
    )
    referrer_rewards = [r.event_key for r in ledger.rewards(now=0) if r.role == "referrer"]
    assert referrer_rewards == ["e1", "e2", "e4"]
    assert [r.person for r in ledger.rewards(now=0) if r.role == "friend"] == [
        "f1",
        "f2",
        "f3",
        "f4",
    ]
    assert ("e3:referrer", "referrer cap of 2 reached") in ledger.skipped


def test_per_person_amount_cap_cuts_then_skips() -> None:
    offer = Offer(Incentive("fixed", 10), Incentive("fixed", 5), max_amount_per_person=25)
    ledger = RewardLedger(offer).extend([buy(f"e{i}", i, f"f{i}") for i in range(4)])
    ann = [r.amount for r in ledger.rewards(now=0) if r.person == "ann"]
    assert ann == [10, 10, 5]
    assert "per-person cap" in [r for r in ledger.rewards(now=0) if r.person == "ann"][-1].reason
    assert ledger.committed("ann") == 25


def test_campaign_budget() -> None:
    offer = Offer(Incentive("fixed", 10), Incentive("fixed", 5), budget=32)
    ledger = RewardLedger(offer).extend([buy(f"e{i}", i, f"f{i}") for i in range(4)])
    assert [r.amount for r in ledger.rewards(now=0)] == [5, 10, 5, 10, 2]
    assert ledger.committed() == 32
    assert any("budget" in reason for _, reason in ledger.skipped)


def test_milestones_earned_once_undone_by_refund_and_earned_again() -> None:
    offer = Offer(
        Incentive("fixed", 10),
        Incentive("fixed", 0),
        tiers=(Tier(2, 50), Tier(3, 100)),
        hold_seconds=10,
    )
    events = [buy("e1", 0, "f1"), buy("e2", 1, "f2"), buy("e3", 2, "f3")]
    ledger = RewardLedger(offer).extend(events)
    ms = [(r.key, r.amount) for r in ledger.rewards(now=0) if r.role == "milestone"]
    assert ms == [("e2:milestone:0", 50), ("e3:milestone:1", 100)]
    ledger.add(refund("r1", 20, "o-e1"))  # after the hold: claw back the 3-referral bonus
    status = {r.key: r.status for r in ledger.rewards(now=30)}
    assert status["e3:milestone:1"] == "clawed_back"
    assert status["e2:milestone:0"] == "granted"  # still 2 active referrals
    ledger.add(buy("e4", 25, "f4"))
    status = {r.key: r.status for r in ledger.rewards(now=30)}
    assert status["e4:milestone:1"] == "pending"


def test_friend_with_zero_reward_still_counts_for_referrer() -> None:
    offer = Offer(Incentive("fixed", 10), Incentive("fixed", 0))
    ledger = RewardLedger(offer).extend([buy("e1", 0, "bob")])
    assert summary(ledger.rewards(now=0))[0][:2] == ("ann", "referrer")


def test_review_queue_holds_rewards() -> None:
    offer = Offer(Incentive("fixed", 10), Incentive("fixed", 5), hold_seconds=0)
    review = review_queue(
        {"e2": RiskDecision("high", ("same device",)), "e1": RiskDecision("low", ("x",))}
    )
    ledger = RewardLedger(offer, review).extend([buy("e1", 0, "f1"), buy("e2", 1, "f2")])
    queue = ledger.review_queue(now=100)
    assert [r.event_key for r in queue] == ["e2", "e2"]
    assert "same device" in queue[0].reason
    assert ledger.balance("ann", now=100) == 10
    ledger.add(refund("r", 5, "o-e2"))
    assert ledger.review_queue(now=100) == ()


def test_out_of_order_is_refused_but_duplicates_are_not() -> None:
    ledger = RewardLedger(Offer(Incentive("fixed", 1), Incentive("fixed", 1)))
    ledger.add(buy("e1", 10, "f1"))
    assert ledger.add(buy("e1", 10, "f1")) is False
    with pytest.raises(BadInput, match="older"):
        ledger.add(buy("e2", 5, "f2"))
    with pytest.raises(InvalidParameter):
        ledger.add("e3")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"key": "", "kind": "purchase", "time": 0.0, "person": "a", "order_id": "o"},
        {"key": "k", "kind": "click", "time": 0.0, "person": "a", "order_id": "o"},
        {"key": "k", "kind": "purchase", "time": math.nan, "person": "a", "order_id": "o"},
        {
            "key": "k",
            "kind": "purchase",
            "time": 0.0,
            "person": "a",
            "order_id": "o",
            "value": -1.0,
        },
    ],
)
def test_bad_events(kwargs: dict[str, object]) -> None:
    with pytest.raises((BadInput, InvalidParameter)):
        LedgerEvent(**kwargs)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- properties
PEOPLE = ["ann", "bob", "cat", "dan", "eve"]


@st.composite
def event_lists(draw: st.DrawFn) -> list[LedgerEvent]:
    n = draw(st.integers(0, 25))
    events: list[LedgerEvent] = []
    t = 0.0
    orders: list[str] = []
    for i in range(n):
        t += draw(st.integers(0, 50))
        if orders and draw(st.integers(0, 3)) == 0:
            events.append(refund(f"r{i}", t, draw(st.sampled_from(orders))))
        else:
            referrer = draw(st.sampled_from([*PEOPLE, None]))
            friend = f"f{draw(st.integers(0, 12))}"
            value = float(draw(st.integers(0, 300)))
            events.append(buy(f"p{i}", t, friend, referrer=referrer, value=value))
            orders.append(f"o-p{i}")
    return events


offers = st.builds(
    Offer,
    referrer=st.sampled_from([Incentive("fixed", 10), Incentive("percent", 15, max_amount=30)]),
    friend=st.sampled_from([Incentive("fixed", 5), Incentive("percent", 10)]),
    tiers=st.sampled_from([(), (Tier(2, 20),), (Tier(1, 5), Tier(3, 40))]),
    hold_seconds=st.sampled_from([0.0, 30.0, 1000.0]),
    max_referrals_per_referrer=st.sampled_from([None, 1, 3]),
    max_amount_per_person=st.sampled_from([None, 25.0, 60.0]),
    budget=st.sampled_from([None, 50.0, 200.0]),
    min_order_value=st.sampled_from([0.0, 20.0]),
)


@settings(max_examples=150, deadline=None)
@given(event_lists(), offers, st.data())
def test_property_duplicates_never_pay_twice(
    events: list[LedgerEvent], offer: Offer, data: st.DataObject
) -> None:
    once = compute_rewards(events, offer, now=1e6)
    # redeliver some events (same key, same content) right after the original or later
    noisy: list[LedgerEvent] = []
    for ev in events:
        noisy.append(ev)
        noisy.extend([ev] * data.draw(st.integers(0, 2)))
    assert compute_rewards(noisy, offer, now=1e6) == once
    ledger = RewardLedger(offer).extend(events)
    for ev in events:
        assert ledger.add(ev) is False
    assert ledger.rewards(now=1e6) == once
    assert len({r.key for r in once}) == len(once)


@settings(max_examples=150, deadline=None)
@given(event_lists(), offers)
def test_property_caps_hold_and_budget(events: list[LedgerEvent], offer: Offer) -> None:
    ledger = RewardLedger(offer)
    for ev in events:
        ledger.add(ev)
        if offer.budget is not None:
            assert ledger.committed() <= offer.budget + 1e-9
        if offer.max_amount_per_person is not None:
            for p in {r.person for r in ledger.rewards(now=0)}:
                assert ledger.committed(p) <= offer.max_amount_per_person + 1e-9
    for now in (0.0, 500.0, 1e6):
        for r in ledger.rewards(now=now):
            assert r.amount > 0
            assert r.available_at == r.earned_at + offer.hold_seconds
            if r.status == "granted":
                assert now >= r.available_at
            if r.status == "pending":
                assert now < r.available_at
    friend_rewards = [r.person for r in ledger.rewards(now=0) if r.role == "friend"]
    assert len(friend_rewards) == len(set(friend_rewards))  # one qualifying purchase each
    if offer.max_referrals_per_referrer is not None:
        active: dict[str, int] = {}
        for r in ledger.rewards(now=1e6):
            if r.role == "referrer" and r.status in ("granted", "pending"):
                active[r.person] = active.get(r.person, 0) + 1
        assert all(v <= offer.max_referrals_per_referrer for v in active.values())


@settings(max_examples=100, deadline=None)
@given(event_lists(), offers)
def test_property_refunding_everything_leaves_nothing(
    events: list[LedgerEvent], offer: Offer
) -> None:
    end = max((e.time for e in events), default=0.0) + 1
    orders = [e.order_id for e in events if e.kind == "purchase"]
    everything = [*events, *(refund(f"z{i}", end, o) for i, o in enumerate(orders))]
    ledger = RewardLedger(offer).extend(everything)
    assert ledger.committed() == 0
    assert {r.status for r in ledger.rewards(now=1e6)} <= {"void", "clawed_back"}

"""Fraud signals: e-mail normalisation, disposable domains, self-referral, bursts, rings."""

from __future__ import annotations

import itertools
from pathlib import Path

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grapevine.errors import BadInput, InvalidParameter
from grapevine.referrals import (
    RISK_LEVELS,
    Identity,
    RiskDecision,
    combine,
    disposable_domains,
    find_rings,
    is_disposable_email,
    normalize_email,
    review_queue,
    self_referral,
    velocity_bursts,
)

DATA = Path(__file__).resolve().parents[1] / "src" / "grapevine" / "referrals" / "data"


# ----------------------------------------------------------------------------- e-mail
@pytest.mark.parametrize(
    ("email", "canonical"),
    [
        ("john.smith@gmail.com", "johnsmith@gmail.com"),
        ("J.O.H.N.Smith+promo+2@Gmail.COM", "johnsmith@gmail.com"),
        ("johnsmith@googlemail.com", "johnsmith@gmail.com"),
        ("  johnsmith@gmail.com.  ", "johnsmith@gmail.com"),
        ("jane.doe+x@outlook.com", "jane.doe@outlook.com"),
        ("Jane.Doe+News@Hotmail.com", "jane.doe@hotmail.com"),
        ("a.b+c@icloud.com", "a.b@icloud.com"),
        ("a.b+c@proton.me", "a.b@proton.me"),
        ("a.b+c@fastmail.com", "a.b@fastmail.com"),
        ("a.b+c@example.org", "a.b+c@example.org"),
        ("A.B@Example.ORG", "a.b@example.org"),
        ("a-b@yahoo.com", "a-b@yahoo.com"),
        ('"quoted"@example.org', '"quoted"@example.org'),
    ],
)
def test_normalize_email(email: str, canonical: str) -> None:
    assert normalize_email(email) == canonical


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "no-at-sign",
        "@example.org",
        "a@",
        "a@b@c",
        "a b@example.org",
        "+tag@gmail.com",
        "...@gmail.com",
        None,
    ],
)
def test_normalize_email_rejects(bad: object) -> None:
    with pytest.raises(BadInput) as info:
        normalize_email(bad)  # type: ignore[arg-type]
    assert info.value.field == "email"


local = st.text(alphabet="abcdefghij.", min_size=1, max_size=10).filter(lambda s: s.strip("."))


@given(
    local,
    st.text(alphabet="xyz0", max_size=5),
    st.sampled_from(["gmail.com", "googlemail.com", "GMail.com"]),
)
def test_property_gmail_variants_collapse(name: str, tag: str, domain: str) -> None:
    plain = normalize_email(f"{name.replace('.', '')}@gmail.com")
    assert normalize_email(f"{name}+{tag}@{domain}") == plain
    assert normalize_email(f"{name.upper()}@{domain}") == plain
    assert normalize_email(normalize_email(f"{name}@{domain}")) == plain


def test_disposable_list_is_bundled_with_provenance() -> None:
    domains = disposable_domains()
    assert len(domains) > 10_000
    assert all(d == d.strip().lower() and "." in d for d in domains)
    text = (DATA / "PROVENANCE.md").read_text()
    assert "CC0" in text
    assert "disposable-email-domains" in text
    assert "gmail.com" not in domains
    assert "outlook.com" not in domains


@pytest.mark.parametrize(
    ("address", "disposable"),
    [
        ("x@mailinator.com", True),
        ("x@MAILINATOR.COM", True),
        ("mailinator.com", True),
        ("x@sub.mailinator.com", True),
        ("x@0815.ru", True),
        ("x@gmail.com", False),
        ("x@example.org", False),
        ("x@mailinator.com.example.org", False),
        ("x@com", False),
    ],
)
def test_is_disposable(address: str, disposable: bool) -> None:
    assert is_disposable_email(address) is disposable


# ----------------------------------------------------------------------------- decisions
def test_risk_decision() -> None:
    assert RISK_LEVELS == ("none", "low", "medium", "high")
    d = RiskDecision("medium", ("a", "b"))
    assert d.reason == "a; b"
    assert d.at_least("low")
    assert d.at_least("medium")
    assert not d.at_least("high")
    with pytest.raises(InvalidParameter):
        RiskDecision("extreme")
    assert combine().risk == "none"
    assert combine(d, RiskDecision("low", ("c",))).reasons == ("a", "b", "c")


def test_review_queue_threshold() -> None:
    decisions = {k: RiskDecision(k, (f"r-{k}",)) for k in RISK_LEVELS}
    assert set(review_queue(decisions)) == {"medium", "high"}
    assert set(review_queue(decisions, threshold="low")) == {"low", "medium", "high"}
    assert set(review_queue(decisions, threshold="none")) == {"low", "medium", "high"}
    assert review_queue(decisions, threshold="high") == {"high": "high risk: r-high"}
    with pytest.raises(InvalidParameter):
        review_queue(decisions, threshold="severe")


# ----------------------------------------------------------------------------- self-referral
ANN = Identity(
    "ann",
    email="ann@example.org",
    device_id="d1",
    ip_hash="h1",
    user_agent="UA1",
    payout="p1",
    time=0.0,
)


@pytest.mark.parametrize(
    ("friend", "risk", "reason"),
    [
        (
            Identity("bob", email="bob@example.org", device_id="d2", ip_hash="h2", time=10.0),
            "none",
            "no signal",
        ),
        (Identity("ann"), "high", "same person"),
        (Identity("bob", email="ANN@example.org "), "high", "same normalised e-mail"),
        (Identity("bob", device_id="d1"), "high", "same device"),
        (Identity("bob", payout="p1"), "high", "same payout account"),
        (
            Identity("bob", ip_hash="h1", user_agent="UA1", time=600.0),
            "medium",
            "same network and user agent within 600 s",
        ),
        (
            Identity("bob", ip_hash="h1", user_agent="UA2", time=600.0),
            "low",
            "same network within 600 s",
        ),
        (Identity("bob", ip_hash="h1", user_agent="UA1", time=90000.0), "none", "no signal"),
        (Identity("bob", ip_hash="h1", user_agent="UA1"), "medium", "same network and user agent"),
        (Identity("bob", email="bob@mailinator.com"), "medium", "disposable domain"),
        (Identity("bob", email="not an email"), "none", "no signal"),
    ],
)
def test_self_referral(friend: Identity, risk: str, reason: str) -> None:
    d = self_referral(ANN, friend)
    assert d.risk == risk
    assert reason in d.reason


def test_self_referral_gmail_aliases() -> None:
    a = Identity("ann", email="ann.lee@gmail.com")
    b = Identity("bob", email="annlee+friend@googlemail.com")
    assert self_referral(a, b).risk == "high"


# ----------------------------------------------------------------------------- velocity
def naive_flagged(times: list[float], window: float, limit: int) -> set[int]:
    """Indices of events that end a window holding >= limit events (sorted times)."""
    return {
        j for j, t in enumerate(times) if sum(t - window <= s <= t for s in times[: j + 1]) >= limit
    }


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from("ab"), st.integers(0, 200).map(float)), max_size=30),
    st.integers(1, 60).map(float),
    st.integers(2, 5),
)
def test_property_bursts_match_naive(
    events: list[tuple[str, float]], window: float, limit: int
) -> None:
    bursts = velocity_bursts(events, window_seconds=window, limit=limit)
    for key in "ab":
        times = sorted(t for k, t in events if k == key)
        flagged = naive_flagged(times, window, limit)
        mine = [b for b in bursts if b.key == key]
        # every flagged window end lies in exactly one burst, and each burst ends on one
        for j in flagged:
            assert sum(b.start <= times[j] <= b.end for b in mine) >= 1
        assert all(any(times[j] == b.end for j in flagged) for b in mine)
        assert all(b.count >= limit for b in mine)
        assert bool(mine) == bool(flagged)
        for b1, b2 in itertools.pairwise(mine):
            assert b1.end <= b2.start


def test_bursts_risk_and_reason() -> None:
    ev = [("K7MP", float(t)) for t in range(10)]
    (b,) = velocity_bursts(ev, window_seconds=5, limit=3)
    assert (b.start, b.end, b.count, b.decision.risk) == (0.0, 9.0, 10, "high")
    assert "10 events in 9 s" in b.decision.reason
    (b,) = velocity_bursts(ev[:4], window_seconds=5, limit=3)
    assert b.decision.risk == "medium"
    two = velocity_bursts(
        [("k", 0.0), ("k", 1.0), ("k", 100.0), ("k", 101.0)], window_seconds=5, limit=2
    )
    assert [(b.start, b.end) for b in two] == [(0.0, 1.0), (100.0, 101.0)]


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"window_seconds": 0, "limit": 2}, InvalidParameter),
        ({"window_seconds": 10, "limit": 1}, InvalidParameter),
        ({"window_seconds": 10, "limit": 2.5}, InvalidParameter),
    ],
)
def test_bursts_bad_parameters(kwargs: dict[str, float], error: type[Exception]) -> None:
    with pytest.raises(error):
        velocity_bursts([], **kwargs)  # type: ignore[arg-type]


def test_bursts_bad_time() -> None:
    with pytest.raises(BadInput):
        velocity_bursts([("k", float("nan"))], window_seconds=1, limit=2)


# ----------------------------------------------------------------------------- rings
def test_rings_examples() -> None:
    rows = [
        ("ann", "device", "d1"),
        ("bob", "device", "d1"),
        ("bob", "payout", "p9"),
        ("cat", "payout", "p9"),
        ("dan", "ip", "h7"),
        ("eve", "ip", "h7"),
        ("fay", "ip", "h8"),
        ("gus", "ip", "h8"),
        ("hal", "ip", "h8"),
        ("ivy", "ip", "h9"),
        ("jon", "ip", "h9"),
        ("kim", "device", "d5"),
        ("kim", "device", "d5"),
    ]
    rings = find_rings(rows, referrals=[("ann", "cat"), ("ivy", "jon"), ("x", "y")])
    got = [(r.accounts, r.decision.risk, r.referrals_inside) for r in rings]
    assert got == [
        (("ann", "bob", "cat"), "high", 1),
        (("fay", "gus", "hal"), "medium", 0),
        (("dan", "eve"), "low", 0),
        (("ivy", "jon"), "medium", 1),
    ]
    assert rings[0].shared == (("device", "d1", 2), ("payout", "p9", 2))
    assert (
        rings[0].decision.reason == "3 accounts share device, payout; 1 referrals inside the ring"
    )
    assert find_rings(rows, min_size=3)[1].accounts == ("fay", "gus", "hal")
    with pytest.raises(InvalidParameter):
        find_rings(rows, min_size=1)


rows_strategy = st.lists(
    st.tuples(
        st.sampled_from("abcdefghij"),
        st.sampled_from(["device", "ip", "payout"]),
        st.sampled_from("0123"),
    ),
    max_size=25,
)


@settings(max_examples=200, deadline=None)
@given(
    rows_strategy,
    st.lists(st.tuples(st.sampled_from("abcdefghij"), st.sampled_from("abcdefghij")), max_size=8),
)
def test_property_rings_are_connected_components(
    rows: list[tuple[str, str, str]], refs: list[tuple[str, str]]
) -> None:
    g = nx.Graph()
    for account, kind, value in rows:
        g.add_edge(account, ("attr", kind, value))
    expected = sorted(
        (
            tuple(sorted(n for n in comp if isinstance(n, str)))
            for comp in nx.connected_components(g)
        ),
    )
    expected = [c for c in expected if len(c) >= 2]
    rings = find_rings(rows, referrals=refs)
    assert sorted(r.accounts for r in rings) == expected
    # relabelling-free invariants: order of rows does not matter
    assert sorted(r.accounts for r in find_rings(list(reversed(rows)), referrals=refs)) == expected
    for r in rings:
        assert r.decision.risk in ("low", "medium", "high")
        assert r.referrals_inside == sum(
            a in r.accounts and b in r.accounts and a != b for a, b in refs
        )
        if any(k in ("device", "payout") for k, _, _ in r.shared):
            assert r.decision.risk == "high"

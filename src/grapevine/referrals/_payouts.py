"""Payouts: approve earned rewards, export them as a payout file, import the result.

A reward's life after the ledger (:class:`~grapevine.referrals.RewardLedger`)::

    ledger: pending (in its hold) -> granted     review (fraud hold)   void   clawed_back
                                        |
    payout:                         approved -> exported (in a batch) -> paid
                                                                      -> failed -> approved ...

Only a granted reward (its hold over, no fraud review pending) can be approved; a reward in
review, void or clawed back cannot, whatever is asked. Approved rewards go out as a payout
file (:data:`EXPORT_FORMATS`: a generic CSV, PayPal Payouts' batch CSV, Wise's batch
payment CSV), or as store credit (:func:`pay_with_credit`: a coupon worth the reward, made
through the campaign's shop). The payer's result file (:func:`import_results`) marks each
one paid or failed. Every move is audited (who, when, from, to, batch); importing the same
result again changes nothing, and a reward is paid at most once (the store refuses a second
``paid``). A paid reward emits ``reward.paid`` to the outbox (e-mail and webhooks).

The workflows commit their own transactions.
"""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from grapevine import outbound
from grapevine.errors import BadInput, Conflict, NotFound
from grapevine.referrals._coupons import issue_credit
from grapevine.referrals._lookup import load_campaign
from grapevine.referrals._shops import Retry
from grapevine.store import codes_repo, payouts_repo
from grapevine.store._secretbox import SecretBox
from grapevine.store.models import Campaign, Person, Reward
from grapevine.store.payouts_models import PayoutBatch, RewardPayout

__all__ = [
    "EXPORT_FORMATS",
    "ApproveResult",
    "CreditResult",
    "ExportResult",
    "ImportResult",
    "PayoutRow",
    "TransitionRow",
    "approve_rewards",
    "export_payouts",
    "import_results",
    "list_payouts",
    "pay_with_credit",
    "payout_audit",
    "payout_reference",
]

EXPORT_FORMATS = ("generic", "paypal", "wise")
"""The payout files :func:`export_payouts` writes."""

_PAID = {"completed", "success", "succeeded", "paid", "outgoing_payment_sent", "sent"}
_FAILED = {"failed", "denied", "returned", "refunded", "blocked", "cancelled", "canceled",
           "bounced_back", "funds_refunded", "reversed"}  # fmt: skip
_COLUMNS = {
    "reference": ("reference", "customer id", "sender_item_id", "sender item id",
                  "paymentreference", "payment reference"),
    "status": ("status", "transaction status", "payout status", "transaction_status"),
    "transaction": ("transaction id", "transaction_id", "payout_item_id", "id", "transfer id"),
    "message": ("message", "failure reason", "errors", "error", "reason"),
}  # fmt: skip
_REFERENCE = re.compile(r"GV-(\d{1,18})-(\d{1,18})", re.IGNORECASE)


def payout_reference(batch_id: int, reward_id: int) -> str:
    """The reference of a reward in a batch, as written to the payout file and read back
    from the result (PayPal's Customer ID, Wise's paymentReference: at most 30 characters,
    no spaces).

    >>> payout_reference(7, 1234)
    'GV-7-1234'
    """
    return f"GV-{batch_id}-{reward_id}"


# ---------------------------------------------------------------------------- views
@dataclass(frozen=True)
class PayoutRow:
    """A reward and where its payout stands.

    ``state`` is the payout state (approved, exported, paid, failed) once approved, else
    the ledger's status (pending, granted, review, void, clawed_back).
    """

    reward_id: int
    person_id: int | None
    payee: str | None
    role: str
    amount: float
    currency: str | None
    state: str
    ledger_status: str
    batch_id: int | None
    reference: str | None
    paid_at: float | None
    message: str | None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class TransitionRow:
    """One audited move of a reward's payout."""

    reward_id: int
    from_state: str
    to_state: str
    at: float
    by: str | None
    batch_id: int | None
    note: str | None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class ApproveResult:
    """Rewards approved now, and those not approved with the reason."""

    approved: tuple[int, ...]
    skipped: tuple[tuple[int, str], ...]

    def as_dict(self) -> dict[str, Any]:
        return {"approved": list(self.approved), "skipped": [list(s) for s in self.skipped]}


@dataclass(frozen=True)
class ExportResult:
    """A payout file: its batch, what it pays, and its text."""

    batch_id: int
    format: str
    count: int
    total: float
    currency: str | None
    content: str
    skipped: tuple[tuple[int, str], ...] = ()


@dataclass(frozen=True)
class ImportResult:
    """What a result file changed."""

    paid: tuple[int, ...]
    failed: tuple[int, ...]
    unchanged: tuple[tuple[int, str], ...]
    lines: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "paid": list(self.paid),
            "failed": list(self.failed),
            "unchanged": [list(u) for u in self.unchanged],
            "lines": self.lines,
        }


@dataclass(frozen=True)
class CreditResult:
    """Store credit handed out: ``reward id -> coupon code``, and what could not be."""

    paid: dict[int, str] = field(default_factory=dict)
    batch_id: int | None = None


def _granted(reward: Reward, now: float) -> bool:
    return reward.status == "granted" or (reward.status == "pending" and reward.available_at <= now)


def _row(
    reward: Reward, payout: RewardPayout | None, person: Person | None, now: float
) -> PayoutRow:
    ledger = "granted" if _granted(reward, now) else reward.status
    return PayoutRow(
        reward_id=reward.id,
        person_id=reward.person_id,
        payee=None if person is None else person.handle,
        role=reward.role,
        amount=float(reward.amount),
        currency=None if payout is None else payout.currency,
        state=ledger if payout is None else payout.state,
        ledger_status=ledger,
        batch_id=None if payout is None else payout.batch_id,
        reference=None if payout is None else payout.reference,
        paid_at=None if payout is None else payout.paid_at,
        message=None if payout is None else payout.message,
    )


def list_payouts(
    session: Session,
    *,
    campaign_id: int,
    tenant_id: int | None = None,
    state: str | None = None,
    now: float | None = None,
) -> list[PayoutRow]:
    """The campaign's rewards and their payout state (only those in ``state`` when given)."""
    campaign = load_campaign(session, campaign_id=campaign_id, tenant_id=tenant_id)
    when = time.time() if now is None else now
    rows = [
        _row(r, p, person, when)
        for r, p, person in payouts_repo.rewards_with_payouts(session, campaign_id=campaign.id)
    ]
    return [r for r in rows if state is None or r.state == state]


def payout_audit(
    session: Session,
    *,
    campaign_id: int,
    tenant_id: int | None = None,
    reward_id: int | None = None,
) -> list[TransitionRow]:
    """Every audited move of the campaign's payouts (of one reward), in order."""
    campaign = load_campaign(session, campaign_id=campaign_id, tenant_id=tenant_id)
    return [
        TransitionRow(t.reward_id, t.from_state, t.to_state, t.at, t.by, t.batch_id, t.note)
        for t in payouts_repo.transitions(session, campaign_id=campaign.id, reward_id=reward_id)
    ]


# ---------------------------------------------------------------------------- approve
def _why_not(reward: Reward, now: float) -> str | None:
    if _granted(reward, now):
        return None
    if reward.status == "pending":
        return f"in its hold until {reward.available_at:.0f}"
    if reward.status == "review":
        return "held for fraud review"
    return {"void": "void", "clawed_back": "clawed back"}.get(reward.status, reward.status)


def approve_rewards(
    session: Session,
    *,
    campaign_id: int,
    tenant_id: int | None = None,
    by: str,
    reward_ids: Sequence[int] | None = None,
    roles: Sequence[str] | None = None,
    now: float | None = None,
) -> ApproveResult:
    """Approve rewards for payout (committed): those of ``reward_ids``, or every granted one.

    A reward must be granted (its hold over; not in fraud review, void or clawed back);
    one approved, exported or paid already is left as it is (so approving twice changes
    nothing), one whose payout failed is approved again. ``roles`` keeps only rewards of
    those roles (referrer, milestone, friend).
    """
    campaign = load_campaign(session, campaign_id=campaign_id, tenant_id=tenant_id)
    when = time.time() if now is None else now
    approved: list[int] = []
    skipped: list[tuple[int, str]] = []
    rows = payouts_repo.rewards_with_payouts(
        session, campaign_id=campaign.id, reward_ids=reward_ids
    )
    found = {r.id for r, _, _ in rows}
    skipped.extend(
        (i, "no such reward in the campaign") for i in reward_ids or () if i not in found
    )
    for reward, payout, _ in rows:
        if roles is not None and reward.role not in roles:
            continue
        if payout is not None and payout.state != "failed":
            if reward_ids is not None:
                skipped.append((reward.id, f"{payout.state} already"))
            continue
        why = _why_not(reward, when)
        if why is not None:
            if reward_ids is not None:
                skipped.append((reward.id, why))
            continue
        if payout is None:
            payouts_repo.add_payout(
                session, reward=reward, currency=campaign.currency, by=by, now=when
            )
        elif not payouts_repo.move(
            session,
            payout=payout,
            to_state="approved",
            by=by,
            now=when,
            note="approved again after a failed payout",
            values={
                "batch_id": None,
                "amount": reward.amount,
                "approved_at": when,
                "approved_by": by,
            },
        ):
            skipped.append((reward.id, "moved by another request"))
            continue
        approved.append(reward.id)
    try:
        session.commit()
    except IntegrityError:  # a concurrent approval of the same reward: theirs stands
        session.rollback()
        return approve_rewards(
            session,
            campaign_id=campaign.id,
            by=by,
            reward_ids=reward_ids,
            roles=roles,
            now=when,
        )
    return ApproveResult(tuple(approved), tuple(skipped))


# ---------------------------------------------------------------------------- export
def _money(value: float) -> str:
    return f"{value:.2f}"


def _render(
    fmt: str,
    batch: PayoutBatch,
    items: Iterable[tuple[RewardPayout, Reward, Person | None]],
    campaign: Campaign,
) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    note = f"{campaign.name}: referral reward"[:400]
    if fmt == "generic":
        writer.writerow(
            [
                "reference",
                "reward_id",
                "person_id",
                "email",
                "role",
                "amount",
                "currency",
                "earned_at",
                "note",
            ]
        )
    elif fmt == "wise":
        writer.writerow(
            [
                "name",
                "recipientEmail",
                "paymentReference",
                "receiverType",
                "amountCurrency",
                "amount",
                "sourceCurrency",
                "targetCurrency",
            ]
        )
    for payout, reward, person in items:
        ref = payout_reference(batch.id, reward.id)
        email = None if person is None else person.handle
        currency = payout.currency or batch.currency or ""
        if fmt == "generic":
            writer.writerow(
                [
                    ref,
                    reward.id,
                    reward.person_id or "",
                    email or "",
                    reward.role,
                    _money(payout.amount),
                    currency,
                    f"{reward.earned_at:.0f}",
                    note,
                ]
            )
        elif fmt == "paypal":  # no header: recipient, amount, currency, customer id, note, wallet
            writer.writerow([email, _money(payout.amount), currency, ref, note, "PAYPAL"])
        else:
            name = (person.display_name if person is not None else None) or email
            writer.writerow(
                [name, email, ref, "PERSON", "target", _money(payout.amount), currency, currency]
            )
    return out.getvalue()


def _payable(
    fmt: str, payout: RewardPayout, reward: Reward, person: Person | None, now: float
) -> str | None:
    if not _granted(reward, now):
        return f"the ledger has it {reward.status} now"
    if fmt in ("paypal", "wise") and (person is None or "@" not in person.handle):
        return "no e-mail address to pay"
    return None


def _add_batch(
    session: Session,
    campaign: Campaign,
    *,
    format: str,
    by: str,
    now: float,
    payouts: Iterable[RewardPayout],
) -> tuple[PayoutBatch, set[int]]:
    """A new batch of the campaign, and the ids of the payouts moved into it: each approved
    one of ``payouts`` goes to ``exported`` in the batch (unless another request moved it
    first). The batch's count and total are the caller's to set."""
    batch = payouts_repo.add_batch(
        session,
        campaign_id=campaign.id,
        format=format,
        currency=campaign.currency,
        by=by,
        now=now,
    )
    moved = {
        payout.id
        for payout in payouts
        if payout.state == "approved"
        and payouts_repo.move(
            session,
            payout=payout,
            to_state="exported",
            by=by,
            now=now,
            batch_id=batch.id,
            values={"batch_id": batch.id},
        )
    }
    return batch, moved


def export_payouts(
    session: Session,
    *,
    campaign_id: int,
    tenant_id: int | None = None,
    format: str,
    by: str,
    batch_id: int | None = None,
    now: float | None = None,
) -> ExportResult:
    """Put every approved reward into a new batch and return its payout file (committed).

    ``format`` is one of :data:`EXPORT_FORMATS`. With ``batch_id``, the file of that batch
    is written again (in any format) and nothing changes. An approved reward the ledger no
    longer grants (refunded since) moves to ``failed`` with the reason; one without an
    e-mail address stays approved when the format pays by e-mail.

    Raises :class:`Conflict` when there is nothing approved to export.
    """
    campaign = load_campaign(session, campaign_id=campaign_id, tenant_id=tenant_id)
    if format not in EXPORT_FORMATS:
        raise BadInput(f"format must be one of {', '.join(EXPORT_FORMATS)}", field="format")
    when = time.time() if now is None else now
    if batch_id is not None:
        batch = payouts_repo.batch_of(session, campaign_id=campaign.id, batch_id=batch_id)
        if batch is None or batch.format == "credit":
            raise NotFound("payout batch", batch_id)
        items = payouts_repo.payouts(session, campaign_id=campaign.id, batch_id=batch.id)
        text = _render(format, batch, items, campaign)
        return ExportResult(batch.id, format, batch.count, batch.total, batch.currency, text)
    waiting = payouts_repo.payouts(session, campaign_id=campaign.id, states=["approved"])
    skipped: list[tuple[int, str]] = []
    ready = []
    for payout, reward, person in waiting:
        why = _payable(format, payout, reward, person, when)
        if why is None:
            ready.append((payout, reward, person))
            continue
        skipped.append((reward.id, why))
        if not _granted(reward, when):
            payouts_repo.move(
                session,
                payout=payout,
                to_state="failed",
                by=by,
                now=when,
                note=why,
                values={"message": why},
            )
    if not ready:
        session.commit()
        raise Conflict(f"campaign {campaign.id} has no approved rewards to export", what="payouts")
    batch, exported = _add_batch(
        session, campaign, format=format, by=by, now=when, payouts=[p for p, _, _ in ready]
    )
    moved = [item for item in ready if item[0].id in exported]
    batch.count = len(moved)
    batch.total = round(sum(p.amount for p, _, _ in moved), 2)
    session.commit()
    text = _render(format, batch, moved, campaign)
    return ExportResult(
        batch.id, format, batch.count, batch.total, batch.currency, text, tuple(skipped)
    )


# ---------------------------------------------------------------------------- results
def _emit_paid(session: Session, campaign: Campaign, payout: RewardPayout, reward: Reward) -> None:
    participant = None
    if reward.person_id is not None:
        participant = codes_repo.find_participant(
            session, campaign_id=campaign.id, person_id=reward.person_id
        )
    outbound.emit(
        session,
        tenant_id=campaign.tenant_id,
        event="reward.paid",
        payload={
            "campaign_name": campaign.name,
            "amount": float(payout.amount),
            "currency": payout.currency or campaign.currency or "",
            "reward_id": reward.id,
            "event_key": reward.event_key,
            "reference": payout.reference,
        },
        participant_id=None if participant is None else participant.id,
        campaign_id=campaign.id,
        key=f"reward.paid:{reward.id}",
    )


def _mark_paid(
    session: Session,
    campaign: Campaign,
    payout: RewardPayout,
    reward: Reward,
    *,
    by: str,
    now: float,
    reference: str | None,
    note: str,
) -> bool:
    done = payouts_repo.move(
        session,
        payout=payout,
        to_state="paid",
        by=by,
        now=now,
        batch_id=payout.batch_id,
        note=note,
        values={"paid_at": now, "reference": reference, "message": None},
    )
    if done:
        _emit_paid(session, campaign, payout, reward)
    return done


def _header_map(header: list[str], name: str) -> dict[str, int]:
    lowered = [h.strip().lower() for h in header]
    found: dict[str, int] = {}
    for key, aliases in _COLUMNS.items():
        for alias in aliases:
            if alias in lowered:
                found[key] = lowered.index(alias)
                break
    for needed in ("reference", "status"):
        if needed not in found:
            raise BadInput(
                f"no {needed} column (one of: {', '.join(_COLUMNS[needed])})", file=name, line=1
            )
    return found


def _cell(row: list[str], cols: dict[str, int], key: str) -> str | None:
    """The row's value in the optional column ``key`` (None without the column)."""
    index = cols.get(key)
    return row[index].strip() if index is not None and len(row) > index else None


def import_results(
    session: Session,
    *,
    campaign_id: int,
    tenant_id: int | None = None,
    by: str,
    path: str | Path | None = None,
    data: bytes | None = None,
    name: str | None = None,
    now: float | None = None,
) -> ImportResult:
    """Read a payout result file and mark each reward paid or failed (committed, all or
    nothing). The file is ``path``, or ``data`` (an upload, called ``name`` in errors).

    A CSV with a header; the columns are found by name, PayPal's, Wise's and the generic
    ones alike: the reference (``reference``, ``Customer ID``, ``sender_item_id``,
    ``paymentReference``: the ``GV-<batch>-<reward>`` of the payout file), the status
    (``status``, ``Transaction Status``), optionally the payer's transaction id and a
    message. Statuses: completed, success, paid, outgoing_payment_sent... mean paid; failed,
    denied, returned, refunded, blocked, cancelled, bounced_back, funds_refunded... mean
    failed; anything else (pending, unclaimed, processing) leaves the reward exported.

    Importing the same file again changes nothing; a paid reward is never paid again nor
    turned failed (reported as unchanged). A malformed line, or a reference that is not a
    reward exported in that batch of this campaign, is :class:`BadInput` naming the line.
    """
    name = name or str(path)
    when = time.time() if now is None else now
    try:
        raw = Path(path).read_bytes() if data is None and path is not None else data or b""
        text = raw.decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"cannot read the file: {exc}", file=name) from None
    campaign = load_campaign(session, campaign_id=campaign_id, tenant_id=tenant_id)
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        raise BadInput(f"not a CSV file: {exc}", file=name) from None
    if not rows:
        raise BadInput("empty file", file=name)
    cols = _header_map(rows[0], name)
    paid: list[int] = []
    failed: list[int] = []
    unchanged: list[tuple[int, str]] = []
    batches: dict[int, dict[int, tuple[RewardPayout, Reward]]] = {}
    try:
        for line, row in enumerate(rows[1:], start=2):
            if not any(cell.strip() for cell in row):
                continue
            if len(row) <= max(cols["reference"], cols["status"]):
                raise BadInput("too few columns", file=name, line=line)
            match = _REFERENCE.fullmatch(row[cols["reference"]].strip())
            if match is None:
                raise BadInput(
                    f"not a payout reference: {row[cols['reference']]!r}",
                    file=name,
                    line=line,
                    field="reference",
                )
            batch_id, reward_id = int(match[1]), int(match[2])
            if batch_id not in batches:  # each batch read once
                batches[batch_id] = {
                    r.id: (p, r)
                    for p, r, _ in payouts_repo.payouts(
                        session, campaign_id=campaign.id, batch_id=batch_id
                    )
                }
            item = batches[batch_id].get(reward_id)
            if item is None:
                raise BadInput(
                    f"reward {reward_id} was not exported in batch {batch_id} of campaign "
                    f"{campaign.id}",
                    file=name,
                    line=line,
                    field="reference",
                )
            payout, reward = item
            status = row[cols["status"]].strip().lower().replace(" ", "_")
            tx, message = _cell(row, cols, "transaction"), _cell(row, cols, "message")
            note = f"{name} line {line}: {status}"
            if status in _PAID:
                if payout.state == "paid":
                    unchanged.append((reward_id, "paid already"))
                elif payout.state != "exported":
                    unchanged.append((reward_id, f"{payout.state}, not exported"))
                elif _mark_paid(
                    session,
                    campaign,
                    payout,
                    reward,
                    by=by,
                    now=when,
                    reference=tx or None,
                    note=note,
                ):
                    paid.append(reward_id)
            elif status in _FAILED:
                if payout.state != "exported":
                    unchanged.append((reward_id, f"{payout.state} already"))
                elif payouts_repo.move(
                    session,
                    payout=payout,
                    to_state="failed",
                    by=by,
                    now=when,
                    batch_id=payout.batch_id,
                    note=note,
                    values={"message": message or status, "reference": tx or None},
                ):
                    failed.append(reward_id)
            else:
                unchanged.append((reward_id, f"status {status or 'empty'}: still exported"))
        session.commit()
    except IntegrityError:
        session.rollback()
        raise Conflict(
            "a reward of the file was paid by another import meanwhile: nothing was changed; "
            "import the file again",
            what="payout",
            state="paid",
        ) from None
    except BaseException:
        session.rollback()
        raise
    return ImportResult(tuple(paid), tuple(failed), tuple(unchanged), len(rows) - 1)


# ---------------------------------------------------------------------------- store credit
def pay_with_credit(
    session: Session,
    *,
    campaign_id: int,
    tenant_id: int | None = None,
    box: SecretBox,
    by: str,
    reward_ids: Sequence[int] | None = None,
    retry: Retry | None = None,
    now: float | None = None,
) -> CreditResult:
    """Pay approved rewards as store credit: a coupon worth each reward, made through the
    campaign's shop for the reward's person, then the reward is paid (its reference is the
    code). Safe to run again after a failure midway: each reward's coupon is made once
    (:func:`~grapevine.referrals._coupons.issue_credit`), and rewards paid are skipped.

    Raises :class:`Conflict` when nothing approved is left, and the shop's errors as they
    come (the rewards paid before stay paid).
    """
    campaign = load_campaign(session, campaign_id=campaign_id, tenant_id=tenant_id)
    when = time.time() if now is None else now
    todo = [
        (p, r)
        for p, r, _ in payouts_repo.payouts(
            session, campaign_id=campaign.id, states=["approved", "exported"]
        )
        if (reward_ids is None or r.id in reward_ids)
        and (p.state == "approved" or _credit_batch(session, campaign, p))
    ]
    if not todo:
        raise Conflict(f"campaign {campaign.id} has no approved rewards to pay", what="payouts")
    batch, _ = _add_batch(
        session, campaign, format="credit", by=by, now=when, payouts=[p for p, _ in todo]
    )
    batch.count = len(todo)
    batch.total = round(sum(p.amount for p, _ in todo), 2)
    session.commit()
    result = CreditResult(batch_id=batch.id)
    for payout, reward in todo:
        coupon = issue_credit(
            session, campaign=campaign, reward=reward, box=box, retry=retry, now=when
        )
        session.refresh(payout)
        if payout.state == "exported" and _mark_paid(
            session,
            campaign,
            payout,
            reward,
            by=by,
            now=when,
            reference=coupon.code,
            note=f"store credit {coupon.code}",
        ):
            session.commit()
            result.paid[reward.id] = coupon.code
    return result


def _credit_batch(session: Session, campaign: Campaign, payout: RewardPayout) -> bool:
    if payout.batch_id is None:
        return False
    batch = payouts_repo.batch_of(session, campaign_id=campaign.id, batch_id=payout.batch_id)
    return batch is not None and batch.format == "credit"

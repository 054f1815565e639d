"""The five records of Grapevine's data model as SQLAlchemy 2 tables.

Times are stored as float seconds since the Unix epoch (UTC): they go in and
out of numpy arrays without conversion, sort and subtract directly, and mean
the same in SQLite and PostgreSQL. Period-indexed data (survey waves) keeps
its period number and says so in the import's notes.

Every table has a natural key so that re-running an import never duplicates:
``persons (platform, handle)``, ``ties (source, target, kind, time)``,
``posts (platform, external_id)``, ``referral_events (campaign, idempotency_key)``,
``referral_codes (code)``, ``participants (campaign, person)``, ``rewards (campaign, reward_key)``,
``tenants (slug)``, ``api_keys (prefix)``, ``campaigns (tenant, name)``.

Every campaign belongs to one tenant; the referral tables reach their tenant through their
campaign. API keys keep a salted hash of their secret, never the secret itself.
"""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    func,
    literal,
)
from sqlalchemy import text as sql_text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from grapevine._vocabulary import POST_COUNTERS, REFERRAL_KINDS, TIE_KINDS

__all__ = [
    "POST_COUNTERS",
    "REFERRAL_KINDS",
    "TIE_KINDS",
    "ApiKey",
    "Base",
    "Campaign",
    "Erasure",
    "ImportRun",
    "Participant",
    "Person",
    "PersonLink",
    "Post",
    "ReferralCode",
    "ReferralEvent",
    "Reward",
    "Tenant",
    "Tie",
    "WebhookSecret",
]


# Constraint names that Alembic and both dialects agree on.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Id = BigInteger().with_variant(Integer, "sqlite")  # INTEGER PRIMARY KEY is SQLite's rowid


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON}


class Person(Base):
    """Someone on some platform; merged across platforms by explicit links only."""

    __tablename__ = "persons"
    __table_args__ = (UniqueConstraint("platform", "handle"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    platform: Mapped[str] = mapped_column(String(64))
    handle: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str | None] = mapped_column(String(255))
    followers: Mapped[int | None] = mapped_column(BigInteger)
    attributes: Mapped[dict[str, Any] | None]


class PersonLink(Base):
    """An explicit statement that two persons are the same human."""

    __tablename__ = "person_links"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("persons.id", ondelete="CASCADE"), primary_key=True
    )
    same_as_id: Mapped[int] = mapped_column(
        ForeignKey("persons.id", ondelete="CASCADE"), primary_key=True
    )
    evidence: Mapped[str | None] = mapped_column(String(255))


class Tie(Base):
    """A directed relation or a timed interaction between two persons."""

    __tablename__ = "ties"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    target_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    time: Mapped[float | None] = mapped_column(Float)


Index(
    "uq_ties_natural_key",
    Tie.source_id,
    Tie.target_id,
    Tie.kind,
    func.coalesce(Tie.time, literal(-1.0)),
    unique=True,
)
Index("ix_ties_kind_target", Tie.kind, Tie.target_id)


class Post(Base):
    """A post, reshare, reply or adoption; ``parent_external_id`` links a reshare to its source."""

    __tablename__ = "posts"
    __table_args__ = (
        UniqueConstraint("platform", "external_id"),
        Index("ix_posts_cascade", "platform", "cascade_id"),
        Index("ix_posts_parent", "platform", "parent_external_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    platform: Mapped[str] = mapped_column(String(64))
    external_id: Mapped[str] = mapped_column(String(255))
    author_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    time: Mapped[float | None] = mapped_column(Float)
    text: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(16))
    url: Mapped[str | None] = mapped_column(Text)
    parent_external_id: Mapped[str | None] = mapped_column(String(255))
    cascade_id: Mapped[str | None] = mapped_column(String(255))
    likes: Mapped[int | None] = mapped_column(BigInteger)
    reshares: Mapped[int | None] = mapped_column(BigInteger)
    replies: Mapped[int | None] = mapped_column(BigInteger)
    views: Mapped[int | None] = mapped_column(BigInteger)


class Tenant(Base):
    """A customer of the service: its campaigns and API keys are invisible to every other."""

    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[float] = mapped_column(Float)


class ApiKey(Base):
    """An API key of one tenant with one role (admin, read, ingest).

    ``prefix`` is the public part of the key (shown in listings, used to find the row);
    ``hash`` is ``scheme$salt$digest`` of the secret part, which is shown once at creation.
    """

    __tablename__ = "api_keys"
    __table_args__ = (Index("ix_api_keys_tenant", "tenant_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    hash: Mapped[str] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[float] = mapped_column(Float)
    last_used_at: Mapped[float | None] = mapped_column(Float)
    revoked_at: Mapped[float | None] = mapped_column(Float)


class WebhookSecret(Base):
    """A tenant's webhook signing secret: ``grapevine`` (``X-Grapevine-Signature`` of
    ``POST /webhooks/{campaign_id}``) or ``stripe`` (a Stripe endpoint's ``whsec_...``).

    ``sealed`` is the secret encrypted under ``GRAPEVINE_SECRETS_KEY`` (``store/_secretbox.py``;
    an HMAC needs the secret itself, so it cannot be hashed). A secret verifies from
    ``created_at`` until ``expires_at`` (None: current); rotating sets the old ones' expiry
    to the end of the overlap window.
    """

    __tablename__ = "webhook_secrets"
    __table_args__ = (Index("ix_webhook_secrets_tenant_kind", "tenant_id", "kind"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    sealed: Mapped[str] = mapped_column(Text)
    hint: Mapped[str] = mapped_column(String(16))  # the last 4 characters, for listings
    created_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float | None] = mapped_column(Float)
    created_by: Mapped[str | None] = mapped_column(String(255))


class Erasure(Base):
    """One GDPR erasure: whose (a keyed hash of the reference), when, by which key, what."""

    __tablename__ = "erasures"
    __table_args__ = (Index("ix_erasures_tenant", "tenant_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    person_ref_hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[float] = mapped_column(Float)
    by: Mapped[str | None] = mapped_column(String(255))
    counts: Mapped[dict[str, Any] | None]


class Campaign(Base):
    """A referral or seeding campaign of one tenant: goal, offer, budget, window and rules."""

    __tablename__ = "campaigns"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    goal: Mapped[str | None] = mapped_column(Text)
    offer: Mapped[dict[str, Any] | None]
    budget: Mapped[float | None] = mapped_column(Float)
    currency: Mapped[str | None] = mapped_column(String(3))
    starts_at: Mapped[float | None] = mapped_column(Float)
    ends_at: Mapped[float | None] = mapped_column(Float)
    rules: Mapped[dict[str, Any] | None]
    # The lifecycle (revision 0010): active, paused or ended (final); when it last paused
    # and when it ended. grapevine.referrals' campaign workflows change it.
    status: Mapped[str] = mapped_column(String(16), default="active", server_default="active")
    paused_at: Mapped[float | None] = mapped_column(Float)
    ended_at: Mapped[float | None] = mapped_column(Float)


class ReferralEvent(Base):
    """One step of a referral: share, click, signup, purchase or refund."""

    __tablename__ = "referral_events"
    __table_args__ = (
        UniqueConstraint("campaign_id", "idempotency_key"),
        Index("ix_referral_events_campaign_kind_time", "campaign_id", "kind", "time"),
        Index("ix_referral_events_campaign_visitor", "campaign_id", "visitor_id"),
        Index("ix_referral_events_campaign_order", "campaign_id", "order_id"),
        # One refund per order (revision 0008): a repeated refund is answered with the first.
        Index(
            "ux_referral_events_one_refund",
            "campaign_id",
            "order_id",
            unique=True,
            sqlite_where=sql_text("kind = 'refund' AND order_id IS NOT NULL"),
            postgresql_where=sql_text("kind = 'refund' AND order_id IS NOT NULL"),
        ),
        # One purchase per order (revision 0009): a repeated purchase is answered with the first.
        Index(
            "ux_referral_events_one_purchase",
            "campaign_id",
            "order_id",
            unique=True,
            sqlite_where=sql_text("kind = 'purchase' AND order_id IS NOT NULL"),
            postgresql_where=sql_text("kind = 'purchase' AND order_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    code: Mapped[str | None] = mapped_column(String(64), index=True)
    referrer_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="SET NULL"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(16))
    time: Mapped[float] = mapped_column(Float)
    value: Mapped[float | None] = mapped_column(Float)
    currency: Mapped[str | None] = mapped_column(String(3))
    ip_hash: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(512))
    idempotency_key: Mapped[str] = mapped_column(String(255))
    order_id: Mapped[str | None] = mapped_column(String(255))
    visitor_id: Mapped[str | None] = mapped_column(String(64))
    # browser, bot or preview for clicks (grapevine.referrals.classify_request); None otherwise
    traffic: Mapped[str | None] = mapped_column(String(16))
    # The share channel (grapevine.referrals.CHANNELS) of a click, from its link's ``ch``, and
    # of the conversion it was credited through; None: a link shared without a channel.
    channel: Mapped[str | None] = mapped_column(String(16))
    # Why a signup or purchase earns no reward whatever the offer says (revision 0010):
    # recorded while its campaign was paused or after it ended; None otherwise.
    reward_note: Mapped[str | None] = mapped_column(String(255))


class ReferralCode(Base):
    """A participant's personal referral code (``/r/{code}``), unique across campaigns."""

    __tablename__ = "referral_codes"
    __table_args__ = (Index("ix_referral_codes_campaign_person", "campaign_id", "person_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    created_at: Mapped[float] = mapped_column(Float)
    disabled_at: Mapped[float | None] = mapped_column(Float)


class Participant(Base):
    """A person taking part in a campaign, with the hashed facts the fraud checks compare."""

    __tablename__ = "participants"
    __table_args__ = (
        UniqueConstraint("campaign_id", "person_id"),
        Index("ix_participants_campaign_email", "campaign_id", "email"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(320))  # normalised (normalize_email)
    device_hash: Mapped[str | None] = mapped_column(String(64))
    payout_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[float] = mapped_column(Float)
    # The language of the participant's e-mail (en, nl, de, sv; None: the campaign's) and
    # when they unsubscribed from it (revision 0013, grapevine.outbound).
    language: Mapped[str | None] = mapped_column(String(16))
    unsubscribed_at: Mapped[float | None] = mapped_column(Float)


class Reward(Base):
    """One reward of the campaign's ledger (grapevine.referrals.RewardLedger), by its key."""

    __tablename__ = "rewards"
    __table_args__ = (UniqueConstraint("campaign_id", "reward_key"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    reward_key: Mapped[str] = mapped_column(String(255))
    event_key: Mapped[str] = mapped_column(String(255), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="SET NULL"))
    role: Mapped[str] = mapped_column(String(16))
    amount: Mapped[float] = mapped_column(Float)
    order_id: Mapped[str] = mapped_column(String(255))
    earned_at: Mapped[float] = mapped_column(Float)
    available_at: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)


class ImportRun(Base):
    """One run of an importer: what was read, what was new, how it ended."""

    __tablename__ = "import_runs"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    source: Mapped[str] = mapped_column(Text)
    format: Mapped[str] = mapped_column(String(32))
    sha256: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[float] = mapped_column(Float)
    finished_at: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16))  # running, done, failed, interrupted
    rows_read: Mapped[int] = mapped_column(BigInteger, default=0)
    rows_new: Mapped[int] = mapped_column(BigInteger, default=0)
    message: Mapped[str | None] = mapped_column(Text)
    # Who runs it and when it last showed life: a ``running`` row whose process is gone (same
    # host, pid not alive) or whose heartbeat is older than the stale limit is interrupted.
    host: Mapped[str | None] = mapped_column(String(255))
    pid: Mapped[int | None] = mapped_column(BigInteger)
    heartbeat_at: Mapped[float | None] = mapped_column(Float)


from grapevine.store import campaign_models as _campaign_models  # noqa: E402, F401
from grapevine.store import coupons_models as _coupons_models  # noqa: E402, F401
from grapevine.store import dashboard_models as _dashboard_models  # noqa: E402, F401
from grapevine.store import listening_models as _listening_models  # noqa: E402, F401
from grapevine.store import outbound_models as _outbound_models  # noqa: E402, F401
from grapevine.store import payouts_models as _payouts_models  # noqa: E402, F401
from grapevine.store import plans_models as _plans_models  # noqa: E402, F401
from grapevine.store import risk_models as _risk_models  # noqa: E402, F401
from grapevine.store import rollups_models as _rollups_models  # noqa: E402, F401
from grapevine.store import rollups_repo as _rollups_repo  # noqa: E402, F401
from grapevine.store import sharing_models as _sharing_models  # noqa: E402, F401

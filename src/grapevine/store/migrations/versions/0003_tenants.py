"""tenants and API keys: tenant on campaigns, hashed keys with a role, erasure log

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23

Existing campaigns go to a tenant ``default`` created here. A campaign's name becomes unique
within its tenant instead of across the store.

SQLite cannot drop a table constraint, so ``campaigns`` is rebuilt (Alembic's batch mode).
Grapevine opens SQLite with ``PRAGMA foreign_keys=ON`` and the pragma cannot change inside the
migration's transaction: dropping the old table would then cascade-delete every referral
row. The rows of the tables that reference ``campaigns`` are therefore kept in temporary
tables across the rebuild and put back after it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import sqlalchemy as sa
from alembic import op
from alembic.operations import BatchOperations

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_CHILDREN = ("referral_events", "referral_codes", "participants", "rewards")


def _rebuild_campaigns_sqlite(change: Callable[[BatchOperations], None]) -> None:
    """Run ``change(batch_op)`` on campaigns in batch mode, keeping the child rows."""
    for table in _CHILDREN:
        op.execute(f"CREATE TEMP TABLE _keep_{table} AS SELECT * FROM {table}")
    with op.batch_alter_table("campaigns", recreate="always") as batch_op:
        change(batch_op)
    for table in _CHILDREN:
        op.execute(f"DELETE FROM {table}")
        op.execute(f"INSERT INTO {table} SELECT * FROM _keep_{table}")
        op.execute(f"DROP TABLE _keep_{table}")


def upgrade() -> None:
    op.create_table(
        "tenants",
        sa.Column("id", _ID, nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenants")),
        sa.UniqueConstraint("slug", name=op.f("uq_tenants_slug")),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", _ID, nullable=False),
        sa.Column("tenant_id", _ID, nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("hash", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("last_used_at", sa.Float(), nullable=True),
        sa.Column("revoked_at", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_api_keys_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("prefix", name=op.f("uq_api_keys_prefix")),
    )
    op.create_index("ix_api_keys_tenant", "api_keys", ["tenant_id"])
    op.create_table(
        "erasures",
        sa.Column("id", _ID, nullable=False),
        sa.Column("tenant_id", _ID, nullable=False),
        sa.Column("person_ref_hash", sa.String(length=64), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("by", sa.String(length=255), nullable=True),
        sa.Column("counts", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_erasures_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasures")),
    )
    op.create_index("ix_erasures_tenant", "erasures", ["tenant_id"])

    tenants = sa.table(
        "tenants",
        sa.column("id", _ID),
        sa.column("slug", sa.String),
        sa.column("name", sa.String),
        sa.column("created_at", sa.Float),
    )
    op.bulk_insert(tenants, [{"slug": "default", "name": "Default", "created_at": time.time()}])
    default_id = sa.select(tenants.c.id).where(tenants.c.slug == "default").scalar_subquery()

    if op.get_bind().dialect.name == "sqlite":
        op.add_column("campaigns", sa.Column("tenant_id", _ID, nullable=True))
        op.execute(
            "UPDATE campaigns SET tenant_id = (SELECT id FROM tenants WHERE slug = 'default')"
        )

        def change(batch_op: BatchOperations) -> None:
            batch_op.alter_column("tenant_id", existing_type=_ID, nullable=False)
            batch_op.drop_constraint("uq_campaigns_name", type_="unique")
            batch_op.create_unique_constraint(op.f("uq_campaigns_tenant_id"), ["tenant_id", "name"])
            batch_op.create_foreign_key(
                op.f("fk_campaigns_tenant_id_tenants"),
                "tenants",
                ["tenant_id"],
                ["id"],
                ondelete="CASCADE",
            )

        _rebuild_campaigns_sqlite(change)
        return
    op.add_column("campaigns", sa.Column("tenant_id", _ID, nullable=True))
    campaigns = sa.table("campaigns", sa.column("tenant_id", _ID))
    op.execute(campaigns.update().values(tenant_id=default_id))
    op.alter_column("campaigns", "tenant_id", existing_type=_ID, nullable=False)
    op.drop_constraint("uq_campaigns_name", "campaigns", type_="unique")
    op.create_unique_constraint(op.f("uq_campaigns_tenant_id"), "campaigns", ["tenant_id", "name"])
    op.create_foreign_key(
        op.f("fk_campaigns_tenant_id_tenants"),
        "campaigns",
        "tenants",
        ["tenant_id"],
        ["id"],
        ondelete="CASCADE",
    )


def downgrade() -> None:
    """Back to one namespace of campaign names (fails if two tenants share a name)."""
    if op.get_bind().dialect.name == "sqlite":

        def change(batch_op: BatchOperations) -> None:
            batch_op.drop_constraint("fk_campaigns_tenant_id_tenants", type_="foreignkey")
            batch_op.drop_constraint("uq_campaigns_tenant_id", type_="unique")
            batch_op.drop_column("tenant_id")
            batch_op.create_unique_constraint(op.f("uq_campaigns_name"), ["name"])

        _rebuild_campaigns_sqlite(change)
    else:
        op.drop_constraint("fk_campaigns_tenant_id_tenants", "campaigns", type_="foreignkey")
        op.drop_constraint("uq_campaigns_tenant_id", "campaigns", type_="unique")
        op.drop_column("campaigns", "tenant_id")
        op.create_unique_constraint(op.f("uq_campaigns_name"), "campaigns", ["name"])
    op.drop_index("ix_erasures_tenant", table_name="erasures")
    op.drop_table("erasures")
    op.drop_index("ix_api_keys_tenant", table_name="api_keys")
    op.drop_table("api_keys")
    op.drop_table("tenants")

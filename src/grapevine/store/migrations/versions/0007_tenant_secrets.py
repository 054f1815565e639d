"""tenant webhook secrets (sealed), and the owner and heartbeat of each import run

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07

``webhook_secrets`` holds each tenant's webhook signing secrets, encrypted under
``GRAPEVINE_SECRETS_KEY`` (never in the database). ``import_runs`` gains ``host``, ``pid``
and ``heartbeat_at``, so that the run of a killed import can be told apart from one that is
still going; rows written before this revision have none and are judged by their start time.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "webhook_secrets",
        sa.Column("id", _ID, nullable=False),
        sa.Column("tenant_id", _ID, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("sealed", sa.Text(), nullable=False),
        sa.Column("hint", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=True),
        sa.Column("created_by", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_webhook_secrets_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_secrets")),
    )
    op.create_index("ix_webhook_secrets_tenant_kind", "webhook_secrets", ["tenant_id", "kind"])
    with op.batch_alter_table("import_runs") as batch:
        batch.add_column(sa.Column("host", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("pid", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("heartbeat_at", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("import_runs") as batch:
        batch.drop_column("heartbeat_at")
        batch.drop_column("pid")
        batch.drop_column("host")
    op.drop_index("ix_webhook_secrets_tenant_kind", table_name="webhook_secrets")
    op.drop_table("webhook_secrets")

"""the database's own key for pagination cursors

Cursors were signed with MUSTER_CURSOR_KEY or, unset, a key each `muster serve` made at start:
replicas of one database refused each other's next links, and a restart changed every next link,
so the ETag of every paged list (whose body holds its next link). Since this revision the
database holds a random key, made here once, that every server of it reads at start
(``app/models/keys.py``); MUSTER_CURSOR_KEY still overrides it.

The downgrade drops it; an upgrade again makes another, and the cursors signed with the first
are refused (a 400 that says to start again from the first page), once.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-08 03:30:00.000000
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    table = op.create_table(
        "database_secrets",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("value", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_database_secrets")),
    )
    # As app.models.keys.CURSOR_KEY names it: 32 random bytes, as HMAC-SHA256 takes a key.
    op.bulk_insert(table, [{"name": "cursor_key", "value": secrets.token_hex(32)}])


def downgrade() -> None:
    op.drop_table("database_secrets")

"""changes by record

An index of the change history by record, in id order: a page of ``/v1/changes`` walks it and
stops after the page's records, instead of collapsing every later change (O(page), not O(changes)).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 23:50:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("dataset_changes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_dataset_changes_kind_record_id_seq", ["kind", "record_id", "seq"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("dataset_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_dataset_changes_kind_record_id_seq")

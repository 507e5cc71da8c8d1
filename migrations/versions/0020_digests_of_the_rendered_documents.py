"""record digests of the documents the API serves

A record's digest, which says what a load changed (``/v1/changes``), was the hash of its record as
the bundle gives it; since this revision a load hashes the record's rendered documents instead,
what its list item and its page serve (``app/ingest/loader.py``, ``_digest``), so that a change of
its counts or relations is a change of the record. The digests already kept are made so here,
from the documents the last load stored: else the first load after the upgrade would find every
record changed, and tell every client to fetch everything again.

The downgrade leaves them: the bundle records they were made from are not in the database. The
older Muster's next load then finds every record changed, once.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-08 02:00:00.000000
"""

import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ENTITIES = ("forces", "agencies", "waves", "authorities", "activities")
DOCUMENTS = {
    "sources": ("listed",),
    "facts": ("listed",),
    **dict.fromkeys(ENTITIES, ("listed", "detailed")),
}
"""Each kind's table, and the documents of its rows that its digest hashes, in order."""
BATCH = 2000


def _digest(*documents: str) -> str:
    """As ``app.ingest.loader._digest_row`` made them at this revision (a migration keeps its
    own copy: it must make the digests of its revision, whatever the loader does later)."""
    digest = hashlib.sha256()
    for document in documents:
        digest.update(document.encode())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def upgrade() -> None:
    connection = op.get_bind()
    update = sa.text(
        "UPDATE record_digests SET digest = :digest WHERE kind = :kind AND record_id = :id"
    )
    for kind, columns in DOCUMENTS.items():
        read = sa.text(
            f"SELECT id, {', '.join(columns)} FROM {kind} "
            f"WHERE id > :after ORDER BY id LIMIT {BATCH}"
        )
        after = ""
        while rows := connection.execute(read, {"after": after}).all():
            connection.execute(
                update, [{"digest": _digest(*row[1:]), "kind": kind, "id": row[0]} for row in rows]
            )
            after = rows[-1][0]


def downgrade() -> None:
    pass

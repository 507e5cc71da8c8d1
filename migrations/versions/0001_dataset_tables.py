"""dataset tables

Revision ID: 0001
Revises:
Create Date: 2026-11-27 17:57:04.656836
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "activities",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("aliases", sa.JSON(), nullable=False),
        sa.Column("description", sa.String(), nullable=True),
        sa.Column("category", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activities")),
    )
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_activities_status"), ["status"], unique=False)

    op.create_table(
        "agencies",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("aliases", sa.JSON(), nullable=False),
        sa.Column("description", sa.String(), nullable=True),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("level", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agencies")),
    )
    op.create_table(
        "dataset_loads",
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_dataset_loads")),
    )
    with op.batch_alter_table("dataset_loads", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dataset_loads_version"), ["version"], unique=False)

    op.create_table(
        "facts",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("statement", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("property", sa.String(), nullable=True),
        sa.Column("quantity", sa.JSON(), nullable=True),
        sa.Column("date", sa.Date(), nullable=True),
        sa.Column("date_precision", sa.String(), nullable=True),
        sa.Column("date_derivation", sa.String(), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_from_precision", sa.String(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("valid_to_precision", sa.String(), nullable=True),
        sa.Column("reported_on", sa.Date(), nullable=True),
        sa.Column("rank", sa.String(), nullable=False),
        sa.Column("rank_reason", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_facts")),
    )
    with op.batch_alter_table("facts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_facts_date"), ["date"], unique=False)
        batch_op.create_index(batch_op.f("ix_facts_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_facts_status"), ["status"], unique=False)

    op.create_table(
        "forces",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("aliases", sa.JSON(), nullable=False),
        sa.Column("description", sa.String(), nullable=True),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("component", sa.String(), nullable=True),
        sa.Column("branch", sa.String(), nullable=True),
        sa.Column("parent_id", sa.String(), nullable=True),
        sa.Column("base", sa.String(), nullable=True),
        sa.Column("operations", sa.JSON(), nullable=False),
        sa.Column("supports", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["forces.id"], name=op.f("fk_forces_parent_id_forces")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forces")),
    )
    with op.batch_alter_table("forces", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_forces_component"), ["component"], unique=False)

    op.create_table(
        "record_digests",
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("record_id", sa.String(), nullable=False),
        sa.Column("digest", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "record_id", name=op.f("pk_record_digests")),
    )
    op.create_table(
        "sources",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("publisher", sa.String(), nullable=True),
        sa.Column("authors", sa.JSON(), nullable=False),
        sa.Column("published", sa.Date(), nullable=True),
        sa.Column("title", sa.String(), nullable=True),
        sa.Column("description", sa.String(), nullable=False),
        sa.Column("url", sa.String(), nullable=True),
        sa.Column("sha256", sa.String(), nullable=False),
        sa.Column("length", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sources")),
    )
    op.create_table(
        "activity_forces",
        sa.Column("activity_id", sa.String(), nullable=False),
        sa.Column("force_id", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activities.id"],
            name=op.f("fk_activity_forces_activity_id_activities"),
        ),
        sa.ForeignKeyConstraint(
            ["force_id"], ["forces.id"], name=op.f("fk_activity_forces_force_id_forces")
        ),
        sa.PrimaryKeyConstraint("activity_id", "force_id", name=op.f("pk_activity_forces")),
    )
    op.create_table(
        "authorities",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("aliases", sa.JSON(), nullable=False),
        sa.Column("description", sa.String(), nullable=True),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("citation", sa.String(), nullable=True),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("reference_source_id", sa.String(), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("binds", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(
            ["reference_source_id"],
            ["sources.id"],
            name=op.f("fk_authorities_reference_source_id_sources"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_authorities")),
    )
    op.create_table(
        "citations",
        sa.Column("fact_id", sa.String(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.String(), nullable=False),
        sa.Column("quote", sa.String(), nullable=False),
        sa.Column("start", sa.Integer(), nullable=False),
        sa.Column("end", sa.Integer(), nullable=False),
        sa.Column("attributed_to", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(["fact_id"], ["facts.id"], name=op.f("fk_citations_fact_id_facts")),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name=op.f("fk_citations_source_id_sources")
        ),
        sa.PrimaryKeyConstraint("fact_id", "position", name=op.f("pk_citations")),
    )
    with op.batch_alter_table("citations", schema=None) as batch_op:
        batch_op.create_index("ix_citations_source_id", ["source_id"], unique=False)

    op.create_table(
        "dataset_changes",
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("record_id", sa.String(), nullable=False),
        sa.Column("change", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(
            ["seq"], ["dataset_loads.seq"], name=op.f("fk_dataset_changes_seq_dataset_loads")
        ),
        sa.PrimaryKeyConstraint("seq", "kind", "record_id", name=op.f("pk_dataset_changes")),
    )
    op.create_table(
        "fact_about",
        sa.Column("fact_id", sa.String(), nullable=False),
        sa.Column("entity_id", sa.String(), nullable=False),
        sa.Column("entity_kind", sa.String(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["fact_id"], ["facts.id"], name=op.f("fk_fact_about_fact_id_facts")
        ),
        sa.PrimaryKeyConstraint("fact_id", "entity_id", name=op.f("pk_fact_about")),
    )
    with op.batch_alter_table("fact_about", schema=None) as batch_op:
        batch_op.create_index("ix_fact_about_entity", ["entity_id"], unique=False)

    op.create_table(
        "waves",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("aliases", sa.JSON(), nullable=False),
        sa.Column("description", sa.String(), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("size_fact_id", sa.String(), nullable=True),
        sa.Column("joins_id", sa.String(), nullable=True),
        sa.Column("origin", sa.String(), nullable=True),
        sa.Column("destination", sa.String(), nullable=True),
        sa.Column("tasks", sa.JSON(), nullable=False),
        sa.Column("dates", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["joins_id"], ["forces.id"], name=op.f("fk_waves_joins_id_forces")),
        sa.ForeignKeyConstraint(
            ["size_fact_id"], ["facts.id"], name=op.f("fk_waves_size_fact_id_facts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waves")),
    )
    with op.batch_alter_table("waves", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_waves_status"), ["status"], unique=False)

    op.create_table(
        "activity_authorities",
        sa.Column("activity_id", sa.String(), nullable=False),
        sa.Column("authority_id", sa.String(), nullable=False),
        sa.Column("effect", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activities.id"],
            name=op.f("fk_activity_authorities_activity_id_activities"),
        ),
        sa.ForeignKeyConstraint(
            ["authority_id"],
            ["authorities.id"],
            name=op.f("fk_activity_authorities_authority_id_authorities"),
        ),
        sa.PrimaryKeyConstraint(
            "activity_id", "authority_id", name=op.f("pk_activity_authorities")
        ),
    )
    op.create_table(
        "wave_members",
        sa.Column("wave_id", sa.String(), nullable=False),
        sa.Column("force_id", sa.String(), nullable=False),
        sa.Column("fact_id", sa.String(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["fact_id"], ["facts.id"], name=op.f("fk_wave_members_fact_id_facts")
        ),
        sa.ForeignKeyConstraint(
            ["force_id"], ["forces.id"], name=op.f("fk_wave_members_force_id_forces")
        ),
        sa.ForeignKeyConstraint(
            ["wave_id"], ["waves.id"], name=op.f("fk_wave_members_wave_id_waves")
        ),
        sa.PrimaryKeyConstraint("wave_id", "force_id", name=op.f("pk_wave_members")),
    )


def downgrade() -> None:
    op.drop_table("wave_members")
    op.drop_table("activity_authorities")
    with op.batch_alter_table("waves", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_waves_status"))

    op.drop_table("waves")
    with op.batch_alter_table("fact_about", schema=None) as batch_op:
        batch_op.drop_index("ix_fact_about_entity")

    op.drop_table("fact_about")
    op.drop_table("dataset_changes")
    with op.batch_alter_table("citations", schema=None) as batch_op:
        batch_op.drop_index("ix_citations_source_id")

    op.drop_table("citations")
    op.drop_table("authorities")
    op.drop_table("activity_forces")
    op.drop_table("sources")
    op.drop_table("record_digests")
    with op.batch_alter_table("forces", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_forces_component"))

    op.drop_table("forces")
    with op.batch_alter_table("facts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_facts_status"))
        batch_op.drop_index(batch_op.f("ix_facts_kind"))
        batch_op.drop_index(batch_op.f("ix_facts_date"))

    op.drop_table("facts")
    with op.batch_alter_table("dataset_loads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dataset_loads_version"))

    op.drop_table("dataset_loads")
    op.drop_table("agencies")
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_activities_status"))

    op.drop_table("activities")

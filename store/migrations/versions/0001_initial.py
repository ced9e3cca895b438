"""The append-only catalogue: batches, revisions, heads and the version counter.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

GEOMETRY = sa.Text().with_variant(Geometry("GEOMETRY", srid=4326, spatial_index=False), "postgresql")
UTC_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_table(
        "batches",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("author", sa.String(120), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("comment", sa.Text, nullable=False, server_default=""),
        sa.Column("source", sa.Text, nullable=True),
        sa.Column("undoes", sa.Integer, sa.ForeignKey("batches.id"), nullable=True),
    )
    op.create_table(
        "revisions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("layer", sa.String(40), nullable=False),
        sa.Column("feature_id", sa.String(120), nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("retired", sa.Boolean, nullable=False),
        sa.Column("properties", sa.JSON, nullable=False),
        sa.Column("geometry", GEOMETRY, nullable=True),
        sa.Column("author", sa.String(120), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("comment", sa.Text, nullable=False, server_default=""),
        sa.Column("batch_id", sa.Integer, sa.ForeignKey("batches.id"), nullable=False),
        sa.UniqueConstraint("layer", "feature_id", "revision", name="uq_revision"),
    )
    op.create_index("ix_revisions_feature", "revisions", ["feature_id"])
    op.create_index("ix_revisions_batch", "revisions", ["batch_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE INDEX ix_revisions_geometry ON revisions USING gist (geometry)")
    op.create_table(
        "heads",
        sa.Column("layer", sa.String(40), primary_key=True),
        sa.Column("feature_id", sa.String(120), primary_key=True),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("revision_row", sa.Integer, sa.ForeignKey("revisions.id"), nullable=False),
        sa.Column("retired", sa.Boolean, nullable=False),
    )
    op.create_table(
        "store_meta",
        sa.Column("key", sa.String(40), primary_key=True),
        sa.Column("value", sa.Integer, nullable=False),
    )
    op.execute("INSERT INTO store_meta (key, value) VALUES ('version', 0)")


def downgrade() -> None:
    for table in ("store_meta", "heads", "revisions", "batches"):
        op.drop_table(table)

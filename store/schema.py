"""The store's tables, declared once (SQLAlchemy Core); Alembic's migrations create them.

History is append-only: every write adds rows to ``revisions`` (a retirement is a
revision with ``retired`` true, a tombstone) inside one ``batches`` row. ``heads``
names the latest revision of each feature, so the current catalogue is one join,
and a save can compare-and-swap on it (no lost update). ``store_meta.version`` is
raised by every committed batch: the app's cheap "did anything change?" check.
"""

from __future__ import annotations

import sqlalchemy as sa
from geoalchemy2 import Geometry

metadata = sa.MetaData()

# PostGIS keeps a real geometry column (spatial index, SQL functions); the embedded
# SQLite store, which must need nothing installed, keeps the same EWKT as text.
GEOMETRY = sa.Text().with_variant(Geometry("GEOMETRY", srid=4326, spatial_index=False), "postgresql")  # GiST index: see migration 0001
UTC_TIME = sa.DateTime(timezone=True)

batches = sa.Table(
    "batches",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("author", sa.String(120), nullable=False),
    sa.Column("created_at", UTC_TIME, nullable=False),
    # init | catalogue | import | edit | retire | restore | undo | dump-restore
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("comment", sa.Text, nullable=False, server_default=""),
    sa.Column("source", sa.Text, nullable=True),  # the imported file's name
    sa.Column("undoes", sa.Integer, sa.ForeignKey("batches.id"), nullable=True),
)

revisions = sa.Table(
    "revisions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("layer", sa.String(40), nullable=False),
    sa.Column("feature_id", sa.String(120), nullable=False),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("retired", sa.Boolean, nullable=False),
    sa.Column("properties", sa.JSON, nullable=False),
    sa.Column("geometry", GEOMETRY, nullable=True),  # null only for a tombstone
    sa.Column("author", sa.String(120), nullable=False),
    sa.Column("created_at", UTC_TIME, nullable=False),
    sa.Column("comment", sa.Text, nullable=False, server_default=""),
    sa.Column("batch_id", sa.Integer, sa.ForeignKey("batches.id"), nullable=False),
    sa.UniqueConstraint("layer", "feature_id", "revision", name="uq_revision"),
    sa.Index("ix_revisions_feature", "feature_id"),
    sa.Index("ix_revisions_batch", "batch_id"),
)

heads = sa.Table(
    "heads",
    metadata,
    sa.Column("layer", sa.String(40), primary_key=True),
    sa.Column("feature_id", sa.String(120), primary_key=True),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("revision_row", sa.Integer, sa.ForeignKey("revisions.id"), nullable=False),
    sa.Column("retired", sa.Boolean, nullable=False),
)

store_meta = sa.Table(
    "store_meta",
    metadata,
    sa.Column("key", sa.String(40), primary_key=True),
    sa.Column("value", sa.Integer, nullable=False),
)

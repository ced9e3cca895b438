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

# --- sign-in (migration 0002) -----------------------------------------------------------
# Local accounts: Argon2id hashes only (store.users); ``disabled`` keeps the name in the
# history while refusing every sign-in.
accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("name", sa.String(120), primary_key=True),
    sa.Column("role", sa.String(10), nullable=False),  # viewer | analyst | admin
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", UTC_TIME, nullable=False),
    sa.Column("changed_at", UTC_TIME, nullable=False),
)

# Failed sign-ins per account name (known or not) and per client address: after a few,
# every further attempt waits until ``locked_until`` (a window that grows with each failure).
sign_in_throttle = sa.Table(
    "sign_in_throttle",
    metadata,
    sa.Column("key", sa.String(200), primary_key=True),  # account:<name> | client:<address>
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("last_failure", UTC_TIME, nullable=False),
    sa.Column("locked_until", UTC_TIME, nullable=True),
)

# Every sign-in attempt and sign-out, for the admin page.
sign_ins = sa.Table(
    "sign_ins",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", UTC_TIME, nullable=False),
    sa.Column("name", sa.String(120), nullable=False),
    sa.Column("outcome", sa.String(20), nullable=False),  # signed-in | refused | throttled | signed-out | resumed
    sa.Column("client", sa.String(64), nullable=False, server_default=""),
    sa.Column("via", sa.String(20), nullable=False, server_default="local"),
    sa.Index("ix_sign_ins_at", "at"),
)

# Sign-ins that survive a reload: the browser keeps a random token, the store only its
# SHA-256, with an expiry; signing out (or disabling the account) ends it for good.
web_sessions = sa.Table(
    "web_sessions",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(120), nullable=False),
    sa.Column("created_at", UTC_TIME, nullable=False),
    sa.Column("expires_at", UTC_TIME, nullable=False),
    sa.Column("ended_at", UTC_TIME, nullable=True),
)

# --- the layers' column-wise copies (migration 0003, store.copies) ------------------------
# A derived copy of each large layer's current frame, so that a server that starts with
# nothing on its own disk reads one row instead of decoding every feature's properties.
# Never the truth: the copy names the head revision row of every feature it holds, and a
# reader brings it up to date from ``heads`` (features whose head moved are read again).
layer_copies = sa.Table(
    "layer_copies",
    metadata,
    sa.Column("layer", sa.String(40), primary_key=True),
    sa.Column("format", sa.String(40), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),  # store_meta.version the frame was read at
    sa.Column("max_row", sa.Integer, nullable=False),  # the newest revisions.id among its heads
    sa.Column("features", sa.Integer, nullable=False),
    sa.Column("columns", sa.LargeBinary, nullable=False),  # Arrow IPC (zstd): plain columns, WKB, head rows, nested values
    sa.Column("header", sa.Text, nullable=False),  # JSON: format, column order, geometry column, CRS
    sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
)

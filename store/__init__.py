"""The catalogue's store: the only package that talks to the database.

``layers/`` and the pages read through it; everything that writes goes through
:class:`store.api.Store`, which validates with the data files' own validators.
"""

from store.access import ROLES, Identity, PermissionDenied
from store.api import (
    CATALOGUE_AUTHOR,
    EDITABLE_LAYERS,
    Change,
    ConflictError,
    Revision,
    Store,
    StoreError,
    ValidationFailed,
    WriteResult,
)

__all__ = [
    "CATALOGUE_AUTHOR",
    "EDITABLE_LAYERS",
    "ROLES",
    "Change",
    "ConflictError",
    "Identity",
    "PermissionDenied",
    "Revision",
    "Store",
    "StoreError",
    "ValidationFailed",
    "WriteResult",
    "open_store",
]


def open_store(settings) -> "Store":
    """The store named by the settings (``BORDER_BRIEF_DATABASE_URL``), created and seeded if new."""
    import sqlalchemy as sa

    from layers.data import layer_files
    from store import db

    store = Store(settings.database_url)
    store.use_snapshot_cache(getattr(settings, "cache_dir", None))
    try:
        db.migrate(store._writer)
        if store.is_empty():
            store.sync_catalogue(layer_files(settings))
    except sa.exc.SQLAlchemyError as exc:
        where = sa.make_url(settings.database_url).render_as_string(hide_password=True)
        raise StoreError(f"cannot open the store at {where}: {getattr(exc, 'orig', None) or exc}") from None
    return store

"""The catalogue's store: the only package that talks to the database.

``layers/`` and the pages read through it; everything that writes goes through
:class:`store.api.Store`, which validates with the data files' own validators.
"""

import importlib

# The names below are imported on first use (PEP 562), so that ``store.snapshots`` (read by
# the derived layers' helper process, layers/data.py) does not pay for SQLAlchemy, Alembic
# and the validators when it needs none of them.
_WHERE = {
    "ROLES": "store.access", "Identity": "store.access", "PermissionDenied": "store.access",
    **{name: "store.api" for name in ("CATALOGUE_AUTHOR", "EDITABLE_LAYERS", "Change", "ConflictError", "Revision",
                                      "Store", "StoreError", "ValidationFailed", "WriteResult")},
}


def __getattr__(name: str):
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'store' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


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


def open_store(settings) -> "store.api.Store":
    """The store named by the settings (``BORDER_BRIEF_DATABASE_URL``), created and seeded if new."""
    import sqlalchemy as sa

    from layers.data import layer_files
    from store import db
    from store.api import Store, StoreError

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

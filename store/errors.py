"""The store's base exception, in a module of its own so that every store module can raise it."""


class StoreError(Exception):
    """A write the store refuses; the message says what to do."""

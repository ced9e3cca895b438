"""A layer's current frame kept on local disk, so that a restarted server starts fast.

Decoding 100,000 events' properties from the database costs a few seconds of CPU; a
server that restarts, or a second replica on the same machine, instead reads the frame
written by an earlier process and brings it up to date the way a running server does
(:meth:`store.api.Store.current`: compare the heads, fetch only features that moved). A
snapshot is therefore never trusted to be current: it only saves the full read.

Files live in ``BORDER_BRIEF_CACHE_DIR`` (default ``var/cache``), one folder per store
(the random ``instance`` number kept in the store's ``store_meta``), one file per layer.
They are Python pickles, which can run code when read, so they are only read from a
folder and file owned by this user and writable by nobody else; they are written by this
program only (mode 0600, in a 0700 folder). Deleting the folder is always safe.
"""

from __future__ import annotations

import os
import pickle
import stat
import tempfile
import threading
from pathlib import Path

FORMAT = "border-brief-snapshot/1"


class SnapshotCache:
    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self._lock = threading.Lock()

    def _folder(self, instance: int) -> Path:
        return self.directory / f"store-{instance:016x}"

    def path(self, instance: int, layer: str) -> Path:
        return self._folder(instance) / f"{layer}.pickle"

    @staticmethod
    def _trusted(path: Path) -> bool:
        """Owned by this user and writable by nobody else (the file and its folders up to the cache)."""
        try:
            info = path.stat()
        except OSError:
            return False
        if hasattr(os, "getuid") and info.st_uid != os.getuid():
            return False
        return not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)

    def load(self, instance: int, layer: str) -> tuple[int, object, dict] | None:
        """(version, frame, head rows) as written, or None when there is no usable file."""
        path = self.path(instance, layer)
        if not (path.is_file() and self._trusted(path) and self._trusted(path.parent) and self._trusted(self.directory)):
            return None
        try:
            with path.open("rb") as handle:
                data = pickle.load(handle)
        except Exception:  # a truncated or foreign file: read the database instead
            return None
        if not (isinstance(data, tuple) and len(data) == 5 and data[0] == FORMAT and data[1] == layer
                and isinstance(data[2], int) and isinstance(data[4], dict)):
            return None
        return data[2], data[3], data[4]

    def save(self, instance: int, layer: str, version: int, frame, head_rows: dict) -> Path | None:
        """Write atomically (a temporary file renamed over the old one); None if it could not."""
        folder = self._folder(instance)
        with self._lock:
            try:
                self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
                folder.mkdir(mode=0o700, exist_ok=True)
                fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{layer}.", suffix=".tmp")
                try:
                    with os.fdopen(fd, "wb") as handle:
                        pickle.dump((FORMAT, layer, version, frame, head_rows), handle, protocol=5)
                    os.replace(tmp, folder / f"{layer}.pickle")
                except BaseException:
                    Path(tmp).unlink(missing_ok=True)
                    raise
            except OSError:
                return None
        return folder / f"{layer}.pickle"

"""A bounded LRU cache of scores, keyed by a collision-free hash of everything that
determines a score."""

from __future__ import annotations

import hashlib
from collections import OrderedDict

from rerankd.ranking import DocumentScore


def cache_key(*fields: str | int | None) -> bytes:
    """SHA-256 of length-prefixed fields: ("ab", "c") and ("a", "bc") never collide."""
    digest = hashlib.sha256()
    for value in fields:
        encoded = b"\xff" if value is None else str(value).encode("utf-8")
        digest.update(len(encoded).to_bytes(8, "little"))
        digest.update(encoded)
    return digest.digest()


class ScoreCache:
    """Least-recently-used entries are evicted first. Used from one event loop only."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[bytes, DocumentScore] = OrderedDict()

    def get(self, key: bytes) -> DocumentScore | None:
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
        return entry

    def put(self, key: bytes, entry: DocumentScore) -> None:
        if self.max_entries <= 0:
            return
        self._entries[key] = entry
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)

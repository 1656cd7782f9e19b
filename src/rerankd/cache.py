"""Score caches keyed by a collision-free hash of everything that determines a score: a
bounded in-process LRU, or Redis shared by every replica (``--cache redis://host:6379/0``)."""

from __future__ import annotations

import hashlib
import json
import logging
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any, Protocol

from rerankd.errors import ConfigError
from rerankd.extras import require
from rerankd.ranking import DocumentScore

logger = logging.getLogger(__name__)


class ScoreStore(Protocol):
    """Where the engine keeps scores. A store that fails must answer with misses."""

    async def get_many(self, keys: Sequence[bytes]) -> dict[bytes, DocumentScore]: ...
    async def put_many(self, entries: dict[bytes, DocumentScore]) -> None: ...


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

    async def get_many(self, keys: Sequence[bytes]) -> dict[bytes, DocumentScore]:
        return {key: entry for key in keys if (entry := self.get(key)) is not None}

    async def put_many(self, entries: dict[bytes, DocumentScore]) -> None:
        for key, entry in entries.items():
            self.put(key, entry)


class RedisScoreCache:
    """Scores in Redis, shared across replicas and restarts, each kept for ``ttl_s``.

    Redis being down costs speed, never answers: lookups then miss and writes are skipped.
    """

    PREFIX = b"rerankd:score:"

    def __init__(self, url: str, ttl_s: int = 7 * 24 * 3600) -> None:
        redis = require("redis.asyncio", "the Redis score cache")
        self.client: Any = redis.from_url(url)
        self.ttl_s = ttl_s

    async def get_many(self, keys: Sequence[bytes]) -> dict[bytes, DocumentScore]:
        if not keys:
            return {}
        try:
            values = await self.client.mget([self.PREFIX + key for key in keys])
        except Exception as error:  # any Redis failure is a miss, not a failed request
            logger.warning("score cache unavailable (%s): scoring without it", error)
            return {}
        return {
            key: _decode(value) for key, value in zip(keys, values, strict=True)
            if value is not None
        }

    async def put_many(self, entries: dict[bytes, DocumentScore]) -> None:
        if not entries:
            return
        try:
            async with self.client.pipeline(transaction=False) as pipe:
                for key, entry in entries.items():
                    pipe.set(self.PREFIX + key, _encode(entry), ex=self.ttl_s)
                await pipe.execute()
        except Exception as error:  # as above
            logger.warning("score cache unavailable (%s): not stored", error)


def _encode(entry: DocumentScore) -> bytes:
    return json.dumps([entry.score, entry.prompt_tokens, entry.truncated,
                       list(entry.passage) if entry.passage else None, entry.chunks]).encode()


def _decode(value: bytes) -> DocumentScore:
    score, tokens, truncated, passage, chunks = json.loads(value)
    return DocumentScore(score, tokens, truncated, tuple(passage) if passage else None, chunks)


def make_score_cache(url: str | None, max_entries: int) -> ScoreStore:
    """``redis://...`` for a shared cache, else an in-process LRU of ``max_entries``."""
    if url:
        if not url.startswith(("redis://", "rediss://", "unix://")):
            raise ConfigError(f"--cache takes a redis:// URL, got {url!r}")
        return RedisScoreCache(url)
    return ScoreCache(max_entries)

"""Prompts, and the one algorithm every prompt format shares: fit the query, fit or cut or
chunk each document.

A model family (Qwen3-Reranker, cross-encoder, bi-encoder) says only how its query side
is built, how documents are tokenized, and how a prompt is assembled. Cutting, refusing
and splitting over-long documents into overlapping windows happen here, once.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from rerankd.errors import InputTooLongError
from rerankd.text_tokenizer import TextTokenizer

OnOverflow = Literal["truncate", "error"]
Span = tuple[int, int]


@dataclass(frozen=True, slots=True)
class Prompt:
    """Token ids of one prompt: ``shared + own`` is the whole prompt.

    ``shared`` is the query side (the same for every document of a request), ``own`` the
    document side. ``document`` is the index of the document it scores and ``span`` the
    characters of that document it holds when the document was split into chunks.
    """

    shared: tuple[int, ...]
    own: tuple[int, ...]
    truncated: bool = False
    document: int = 0
    span: Span | None = None

    @property
    def ids(self) -> list[int]:
        return [*self.shared, *self.own]

    def __len__(self) -> int:
        return len(self.shared) + len(self.own)


@dataclass(frozen=True)
class Chunking:
    """Split a document over its budget into overlapping token windows (at most
    ``max_chunks``; text beyond them is not scored and the document is marked truncated)."""

    max_chunks: int = 16
    overlap_fraction: float = 0.125


@dataclass(frozen=True, slots=True)
class EncodedDocument:
    ids: list[int]
    offsets: list[Span]  # character span of each token in the original document


class PromptBuilder(ABC):
    """Turns (query, documents) into a model's prompts, fitted to ``max_length``."""

    version: str  # part of every cache key: bumped when prompts change
    max_length: int

    def __init__(self, tokenizer: TextTokenizer, max_length: int) -> None:
        self.tokenizer = tokenizer
        self.max_length = max_length

    def build(
        self,
        query: str,
        documents: Sequence[str],
        instruction: str | None = None,
        *,
        max_length: int | None = None,
        max_document_tokens: int | None = None,
        max_query_tokens: int | None = None,
        on_overflow: OnOverflow = "truncate",
        chunking: Chunking | None = None,
    ) -> list[Prompt]:
        """Prompts for one query against many documents, in document order.

        A document over its budget is cut at its tail (the default), refused
        (``on_overflow="error"``), or, with ``chunking``, split into windows that each
        get a prompt. ``max_length`` can only lower the builder's own limit.
        """
        limit = min(self.max_length, max_length or self.max_length)
        if max_query_tokens is not None:
            query = self._fit_query(query, max_query_tokens, on_overflow)
        shared, room = self.query_side(query, instruction, limit, on_overflow)
        room = max(room, 0)
        if max_document_tokens is not None:
            room = min(room, max_document_tokens)
        prompts: list[Prompt] = []
        for index, document in enumerate(self.encode_documents(documents)):
            ids = document.ids
            if len(ids) <= room:
                prompts.append(self.assemble(shared, ids, index))
            elif on_overflow == "error":
                raise InputTooLongError(
                    f"document {index} takes {len(ids)} tokens, over the {room} it may take "
                    "(max_length less the template and the query, or max_tokens_per_doc)"
                )
            elif chunking is None or room <= 0:
                prompts.append(self.assemble(shared, ids[:room], index, truncated=True))
            else:
                prompts.extend(self._chunks(shared, document, index, room, chunking))
        return prompts

    def _chunks(
        self, shared: tuple[int, ...], document: EncodedDocument, index: int, room: int,
        chunking: Chunking,
    ) -> list[Prompt]:
        overlap = min(int(room * chunking.overlap_fraction), room - 1)
        stride = room - overlap
        starts = list(range(0, max(len(document.ids) - overlap, 1), stride))
        cut = len(starts) > chunking.max_chunks
        prompts = []
        for start in starts[: chunking.max_chunks]:
            end = min(start + room, len(document.ids))
            span = (document.offsets[start][0], document.offsets[end - 1][1])
            prompts.append(self.assemble(
                shared, document.ids[start:end], index, truncated=cut, span=span
            ))
        return prompts

    def _fit_query(self, query: str, max_query_tokens: int, on_overflow: OnOverflow) -> str:
        encoding = self.tokenizer.encode_plain(query)
        if len(encoding.ids) <= max_query_tokens:
            return query
        if on_overflow == "error":
            raise InputTooLongError(
                f"the query takes {len(encoding.ids)} tokens, over max_tokens_per_query "
                f"{max_query_tokens}"
            )
        return query[: encoding.offsets[max_query_tokens - 1][1]]

    @abstractmethod
    def query_side(
        self, query: str, instruction: str | None, limit: int, on_overflow: OnOverflow
    ) -> tuple[tuple[int, ...], int]:
        """The shared ids of the query side, and how many document tokens fit after it."""

    @abstractmethod
    def encode_documents(self, documents: Sequence[str]) -> list[EncodedDocument]:
        """User text tokenized as text, with offsets into each original document."""

    @abstractmethod
    def assemble(
        self, shared: tuple[int, ...], document_ids: Sequence[int], index: int,
        truncated: bool = False, span: Span | None = None,
    ) -> Prompt:
        """The prompt for the query side and (part of) one document."""

"""Prompts for encoder models: cross-encoder pairs and bi-encoder texts.

Both keep user text as text (the tokenizer without added tokens, as for Qwen3) and let
the tokenizer's own post-processor add the model's special tokens ([CLS]/[SEP], <s>/</s>).
A Prompt's ``shared`` part is the query side and ``own`` the document side; for a pair
the split is where BERT's token type turns from 0 to 1.
"""

from __future__ import annotations

from collections.abc import Sequence

from rerankd.errors import InputTooLongError
from rerankd.template import Prompt
from rerankd.text_tokenizer import TextTokenizer


def _budget(max_length: int, model_max_length: int, requested: int | None) -> int:
    budget = min(max_length, model_max_length)
    return min(budget, requested) if requested is not None else budget


def _check(
    kind: str, index: int | None, length: int, room: int, on_overflow: str
) -> bool:
    truncated = length > room
    if truncated and on_overflow == "error":
        where = "the query" if index is None else f"document {index}"
        raise InputTooLongError(f"{where} takes {length} tokens, over the {room} {kind} allows")
    return truncated


class CrossEncoderPairs:
    """``[CLS] query [SEP] document [SEP]`` (or the model's equivalent), cut to fit.

    The query keeps at most half the budget; the document gets the rest, as
    sentence-transformers' CrossEncoder does with ``truncation="longest_first"`` for
    typical short queries. The instruction is not part of a cross-encoder's input.
    """

    version = "cross-encoder/1"

    def __init__(self, tokenizer: TextTokenizer, max_length: int, model_max_length: int) -> None:
        self.tokenizer = tokenizer
        self.max_length = min(max_length, model_max_length)
        self.special_tokens = tokenizer.special_tokens_in_pair()

    def build(
        self, query: str, documents: Sequence[str], instruction: str | None = None, *,
        max_length: int | None = None, max_document_tokens: int | None = None,
        on_overflow: str = "truncate",
    ) -> list[Prompt]:
        budget = _budget(self.max_length, self.max_length, max_length) - self.special_tokens
        query_encoding = self.tokenizer.encode_plain(query)
        query_room = max(1, budget // 2)
        _check("max_length", None, len(query_encoding.ids), query_room, on_overflow)
        query_encoding.truncate(query_room)
        room = budget - len(query_encoding.ids)
        # The query side, with its special tokens: token type 0 in a BERT-style pair.
        split = len(self.tokenizer.with_special_tokens(query_encoding).ids)
        if max_document_tokens is not None:
            room = min(room, max_document_tokens)
        prompts = []
        for index, encoding in enumerate(self.tokenizer.encode_plain_batch(documents)):
            truncated = _check("max_length", index, len(encoding.ids), room, on_overflow)
            encoding.truncate(room)
            pair = self.tokenizer.with_special_tokens(query_encoding, encoding)
            prompts.append(Prompt(tuple(pair.ids[:split]), tuple(pair.ids[split:]), truncated))
        return prompts


class SeparateTexts:
    """Query and document encoded on their own, for a bi-encoder (each ``[CLS] text [SEP]``)."""

    version = "bi-encoder/1"

    def __init__(self, tokenizer: TextTokenizer, max_length: int, model_max_length: int) -> None:
        self.tokenizer = tokenizer
        self.max_length = min(max_length, model_max_length)
        self.special_tokens = tokenizer.special_tokens_in_single()

    def build(
        self, query: str, documents: Sequence[str], instruction: str | None = None, *,
        max_length: int | None = None, max_document_tokens: int | None = None,
        on_overflow: str = "truncate",
    ) -> list[Prompt]:
        room = _budget(self.max_length, self.max_length, max_length) - self.special_tokens
        query_encoding = self.tokenizer.encode_plain(query)
        _check("max_length", None, len(query_encoding.ids), room, on_overflow)
        query_encoding.truncate(room)
        shared = tuple(self.tokenizer.with_special_tokens(query_encoding).ids)
        document_room = room if max_document_tokens is None else min(room, max_document_tokens)
        prompts = []
        for index, encoding in enumerate(self.tokenizer.encode_plain_batch(documents)):
            truncated = _check("max_length", index, len(encoding.ids), document_room, on_overflow)
            encoding.truncate(document_room)
            own = tuple(self.tokenizer.with_special_tokens(encoding).ids)
            prompts.append(Prompt(shared, own, truncated))
        return prompts


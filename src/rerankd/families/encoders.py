"""Encoder families: cross-encoder pairs and bi-encoder texts.

Both keep user text as text (as for Qwen3) and put the model's own special tokens
([CLS]/[SEP], <s>/</s>) around it, in the layout its tokenizer's post-processor uses. A
Prompt's ``shared`` part is the query side and ``own`` the document side; for a BERT pair
the split is where the token type turns from 0 to 1.
"""

from __future__ import annotations

from rerankd.errors import InputTooLongError
from rerankd.options import OnOverflow
from rerankd.prompts import PromptBuilder, TextTokenizer

Ids = tuple[int, ...]


def single_layout(tokenizer: TextTokenizer) -> tuple[Ids, Ids]:
    """(before, after) one text: ([CLS], [SEP]) for BERT, (<s>, </s>) for XLM-R."""
    ids, (text,) = _layout(tokenizer, pair=False)
    return tuple(ids[:text]), tuple(ids[text + 1 :])


def pair_layout(tokenizer: TextTokenizer) -> tuple[Ids, Ids, Ids]:
    """(before, between, after) a pair: ([CLS], [SEP], [SEP]), or (<s>, </s></s>, </s>)."""
    ids, (first, second) = _layout(tokenizer, pair=True)
    return tuple(ids[:first]), tuple(ids[first + 1 : second]), tuple(ids[second + 1 :])


def _layout(tokenizer: TextTokenizer, pair: bool) -> tuple[list[int], list[int]]:
    """The post-processed ids of one-token texts, and where the texts landed."""
    second = tokenizer.encode("b") if pair else None
    encoding = tokenizer.with_special_tokens(tokenizer.encode("a"), second)
    texts = [i for i, special in enumerate(encoding.special_tokens_mask) if not special]
    return list(encoding.ids), texts


class _EncoderPrompts(PromptBuilder):
    def __init__(self, tokenizer: TextTokenizer, max_length: int, model_max_length: int) -> None:
        super().__init__(tokenizer, min(max_length, model_max_length))

    def _query_ids(self, query: str, room: int, on_overflow: OnOverflow) -> list[int]:
        if room < 1:
            raise InputTooLongError("max_length leaves no room for the text")
        ids = self.tokenizer.text_ids(query)
        if len(ids) > room and on_overflow == "error":
            raise InputTooLongError(f"the query takes {len(ids)} tokens, over the {room} allowed")
        return ids[:room]


class CrossEncoderPairs(_EncoderPrompts):
    """``[CLS] query [SEP] document [SEP]`` (or the model's equivalent), cut to fit.

    The query keeps at most half the budget; the document gets the rest. The
    instruction is not part of a cross-encoder's input.
    """

    version = "cross-encoder/2"

    def __init__(self, tokenizer: TextTokenizer, max_length: int, model_max_length: int) -> None:
        super().__init__(tokenizer, max_length, model_max_length)
        self.before, self.between, self.document_close = pair_layout(tokenizer)

    def query_side(
        self, query: str, instruction: str | None, limit: int, on_overflow: OnOverflow
    ) -> tuple[Ids, int]:
        budget = limit - len(self.before) - len(self.between) - len(self.document_close)
        query_ids = self._query_ids(query, max(1, budget // 2), on_overflow)
        return (*self.before, *query_ids, *self.between), budget - len(query_ids)


class SeparateTexts(_EncoderPrompts):
    """Query and document encoded on their own, for a bi-encoder (each ``[CLS] text [SEP]``)."""

    version = "bi-encoder/2"

    def __init__(self, tokenizer: TextTokenizer, max_length: int, model_max_length: int) -> None:
        super().__init__(tokenizer, max_length, model_max_length)
        self.document_open, self.document_close = single_layout(tokenizer)

    def query_side(
        self, query: str, instruction: str | None, limit: int, on_overflow: OnOverflow
    ) -> tuple[Ids, int]:
        room = limit - len(self.document_open) - len(self.document_close)
        query_ids = self._query_ids(query, room, on_overflow)
        return (*self.document_open, *query_ids, *self.document_close), room

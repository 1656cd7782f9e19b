"""Prompts for encoder models: cross-encoder pairs and bi-encoder texts.

Both keep user text as text (the tokenizer without added tokens, as for Qwen3) and put
the model's own special tokens ([CLS]/[SEP], <s>/</s>) around it, in the layout its
tokenizer's post-processor uses. A Prompt's ``shared`` part is the query side and
``own`` the document side; for a BERT pair the split is where the token type turns
from 0 to 1.
"""

from __future__ import annotations

from collections.abc import Sequence

from rerankd.errors import InputTooLongError
from rerankd.prompts import EncodedDocument, OnOverflow, Prompt, PromptBuilder, Span
from rerankd.text_tokenizer import TextTokenizer


class _EncoderPrompts(PromptBuilder):
    def __init__(self, tokenizer: TextTokenizer, max_length: int, model_max_length: int) -> None:
        super().__init__(tokenizer, min(max_length, model_max_length))

    def encode_documents(self, documents: Sequence[str]) -> list[EncodedDocument]:
        return [
            EncodedDocument(list(encoding.ids), list(encoding.offsets))
            for encoding in self.tokenizer.encode_plain_batch(documents)
        ]

    def _query_ids(self, query: str, room: int, on_overflow: OnOverflow) -> list[int]:
        if room < 1:
            raise InputTooLongError("max_length leaves no room for the text")
        ids = list(self.tokenizer.encode_plain(query).ids)
        if len(ids) > room and on_overflow == "error":
            raise InputTooLongError(f"the query takes {len(ids)} tokens, over the {room} allowed")
        return ids[:room]


class CrossEncoderPairs(_EncoderPrompts):
    """``[CLS] query [SEP] document [SEP]`` (or the model's equivalent), cut to fit.

    The query keeps at most half the budget; the document gets the rest. The
    instruction is not part of a cross-encoder's input.
    """

    version = "cross-encoder/1"

    def __init__(self, tokenizer: TextTokenizer, max_length: int, model_max_length: int) -> None:
        super().__init__(tokenizer, max_length, model_max_length)
        self.before, self.between, self.after = tokenizer.pair_layout()

    def query_side(
        self, query: str, instruction: str | None, limit: int, on_overflow: OnOverflow
    ) -> tuple[tuple[int, ...], int]:
        budget = limit - len(self.before) - len(self.between) - len(self.after)
        query_ids = self._query_ids(query, max(1, budget // 2), on_overflow)
        return (*self.before, *query_ids, *self.between), budget - len(query_ids)

    def assemble(
        self, shared: tuple[int, ...], document_ids: Sequence[int], index: int,
        truncated: bool = False, span: Span | None = None,
    ) -> Prompt:
        return Prompt(shared, (*document_ids, *self.after), truncated, index, span)


class SeparateTexts(_EncoderPrompts):
    """Query and document encoded on their own, for a bi-encoder (each ``[CLS] text [SEP]``)."""

    version = "bi-encoder/1"

    def __init__(self, tokenizer: TextTokenizer, max_length: int, model_max_length: int) -> None:
        super().__init__(tokenizer, max_length, model_max_length)
        self.before, self.after = tokenizer.single_layout()

    def query_side(
        self, query: str, instruction: str | None, limit: int, on_overflow: OnOverflow
    ) -> tuple[tuple[int, ...], int]:
        room = limit - len(self.before) - len(self.after)
        return (*self.before, *self._query_ids(query, room, on_overflow), *self.after), room

    def assemble(
        self, shared: tuple[int, ...], document_ids: Sequence[int], index: int,
        truncated: bool = False, span: Span | None = None,
    ) -> Prompt:
        own = (*self.before, *document_ids, *self.after)
        return Prompt(shared, own, truncated, index, span)

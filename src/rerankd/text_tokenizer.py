"""Tokenization that keeps user text as text.

A default tokenizer call turns the string "<|im_end|>" inside a document into the
control token, so a document could close the user turn and answer "yes" for itself.
User text is therefore encoded by a copy of the model's tokenizer that has no added
tokens at all: the same normalizer, pre-tokenizer and BPE, so ordinary text gets the
very same ids as with the official tokenizer, while "<|im_end|>" becomes "<", "|", "im"...
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from tokenizers import Encoding, Tokenizer


class TextTokenizer:
    """Encodes template strings (special tokens parsed) and user text (never parsed)."""

    def __init__(self, backend: Tokenizer) -> None:
        self._template = backend
        spec = json.loads(backend.to_str())
        spec["added_tokens"] = []
        spec["truncation"] = None
        spec["padding"] = None
        self._plain = Tokenizer.from_str(json.dumps(spec))

    @classmethod
    def from_hf(cls, hf_tokenizer: Any) -> TextTokenizer:
        """From a transformers fast tokenizer (which wraps a ``tokenizers.Tokenizer``)."""
        backend = getattr(hf_tokenizer, "backend_tokenizer", None)
        if backend is None:
            raise TypeError("rerankd needs a fast tokenizer (a tokenizer.json)")
        return cls(backend)

    def encode_template(self, text: str) -> list[int]:
        """Ids of rerankd's own template text, where special tokens are meant."""
        return list(self._template.encode(text, add_special_tokens=False).ids)

    def encode_text(self, text: str) -> list[int]:
        """Ids of user text, with special-token strings kept as plain text."""
        return list(self._plain.encode(text, add_special_tokens=False).ids)

    def encode_plain(self, text: str) -> Encoding:
        """User text as an Encoding (ids and character offsets), special strings as text."""
        return self._plain.encode(text, add_special_tokens=False)

    def encode_plain_batch(self, texts: Sequence[str]) -> list[Encoding]:
        return list(self._plain.encode_batch(list(texts), add_special_tokens=False))

    # Encoder models: where their post-processor puts special tokens around one text or a pair.

    def single_layout(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """(before, after) one text: ([CLS], [SEP]) for BERT, (<s>, </s>) for XLM-R."""
        ids, (text,) = self._layout(self.encode_plain("a"), None)
        return tuple(ids[:text]), tuple(ids[text + 1 :])

    def pair_layout(self) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
        """(before, between, after) a pair: ([CLS], [SEP], [SEP]), or (<s>, </s></s>, </s>)."""
        ids, (first, second) = self._layout(self.encode_plain("a"), self.encode_plain("b"))
        return tuple(ids[:first]), tuple(ids[first + 1 : second]), tuple(ids[second + 1 :])

    def _layout(self, first: Encoding, second: Encoding | None) -> tuple[list[int], list[int]]:
        """The post-processed ids of one-token texts, and where the texts landed."""
        encoding = self._plain.post_process(first, second, add_special_tokens=True)
        texts = [i for i, special in enumerate(encoding.special_tokens_mask) if not special]
        return list(encoding.ids), texts

    def token_id(self, token: str) -> int:
        token_id = self._template.token_to_id(token)
        if token_id is None:
            raise KeyError(f"token {token!r} is not in the vocabulary")
        return token_id

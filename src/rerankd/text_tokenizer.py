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
        self.vocab_size = backend.get_vocab_size(with_added_tokens=True)

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

    def encode_texts(self, texts: Sequence[str]) -> list[list[int]]:
        encodings = self._plain.encode_batch(list(texts), add_special_tokens=False)
        return [list(encoding.ids) for encoding in encodings]

    # Encoder models: plain encodings, then the model's own special tokens around them.

    def encode_plain(self, text: str) -> Encoding:
        return self._plain.encode(text, add_special_tokens=False)

    def encode_plain_batch(self, texts: Sequence[str]) -> list[Encoding]:
        return list(self._plain.encode_batch(list(texts), add_special_tokens=False))

    def with_special_tokens(self, first: Encoding, second: Encoding | None = None) -> Encoding:
        """[CLS] first [SEP] (second [SEP]): the post-processor of the model's tokenizer."""
        return self._plain.post_process(first, second, add_special_tokens=True)

    def special_tokens_in_pair(self) -> int:
        return int(self._plain.num_special_tokens_to_add(is_pair=True))

    def special_tokens_in_single(self) -> int:
        return int(self._plain.num_special_tokens_to_add(is_pair=False))

    def token_id(self, token: str) -> int:
        token_id = self._template.token_to_id(token)
        if token_id is None:
            raise KeyError(f"token {token!r} is not in the vocabulary")
        return token_id

"""Tokenization that keeps user text as text.

A default tokenizer call turns the string "<|im_end|>" inside a document into the control
token, so a document could close the user turn and answer "yes" for itself. User text is
therefore encoded with the model's special tokens read as plain text, which is what
transformers' ``split_special_tokens=True`` does: "<|im_end|>" becomes "<", "|", "im"...
Every other token, including added tokens that are not special (Qwen3's "<think>",
"</think>", "<tool_call>"...), is encoded exactly as the official tokenizer encodes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tokenizers import Encoding, Tokenizer


class TextTokenizer:
    """Encodes rerankd's template strings (special tokens parsed) and user text (special
    tokens never parsed)."""

    def __init__(self, backend: Tokenizer) -> None:
        self._template = backend
        self._text = Tokenizer.from_str(backend.to_str())
        self._text.no_truncation()
        self._text.no_padding()
        self._text.encode_special_tokens = True

    @classmethod
    def from_hf(cls, hf_tokenizer: Any) -> TextTokenizer:
        """From a transformers fast tokenizer (which wraps a ``tokenizers.Tokenizer``)."""
        backend = getattr(hf_tokenizer, "backend_tokenizer", None)
        if backend is None:
            raise TypeError("rerankd needs a fast tokenizer (a tokenizer.json)")
        return cls(backend)

    def template_ids(self, text: str) -> list[int]:
        """Ids of rerankd's own template text, where special tokens are meant."""
        return list(self._template.encode(text, add_special_tokens=False).ids)

    def text_ids(self, text: str) -> list[int]:
        """Ids of user text."""
        return list(self.encode(text).ids)

    def encode(self, text: str) -> Encoding:
        """User text as an Encoding: ids, and each token's characters in ``text``."""
        return self._text.encode(text, add_special_tokens=False)

    def encode_batch(self, texts: Sequence[str]) -> list[Encoding]:
        return list(self._text.encode_batch(list(texts), add_special_tokens=False))

    def with_special_tokens(self, first: Encoding, second: Encoding | None = None) -> Encoding:
        """The model's post-processor applied: its special tokens around one text or a pair."""
        return self._text.post_process(first, second, add_special_tokens=True)

    def token_id(self, token: str) -> int:
        token_id = self._template.token_to_id(token)
        if token_id is None:
            raise KeyError(f"token {token!r} is not in the vocabulary")
        return token_id

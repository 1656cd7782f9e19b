"""The Qwen3-Reranker prompt, built as token ids, with truncation that never cuts the suffix.

The prompt is exactly the one of the model card (QwenLM/Qwen3-Embedding):

    PREFIX + "<Instruct>: {instruction}\\n<Query>: {query}\\n<Document>: {document}" + SUFFIX

Only PREFIX and SUFFIX are parsed for special tokens. The body, which holds the user's
text, goes through a plain-text tokenizer, so a document containing "<|im_end|>" or
"<think>" cannot forge the template.

A prompt is kept in two parts: ``shared`` (prefix, instruction and query: the same for
every document of one request) and ``own`` (the document and the suffix). Splitting the
body just before " {document}" gives the same tokens as tokenizing it whole, because
Qwen's pre-tokenizer always breaks between ">:" and a following space.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rerankd.errors import InputTooLongError
from rerankd.text_tokenizer import TextTokenizer

PREFIX = (
    "<|im_start|>system\nJudge whether the Document meets the requirements based on the Query "
    'and the Instruct provided. Note that the answer can only be "yes" or "no".<|im_end|>\n'
    "<|im_start|>user\n"
)
SUFFIX = "<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"
DEFAULT_INSTRUCTION = (
    "Given a web search query, retrieve relevant passages that answer the query"
)
DEFAULT_MAX_LENGTH = 8192
# Bumped whenever the prompt or its tokenization changes; part of every cache key.
TEMPLATE_VERSION = "qwen3-reranker/1"


def query_part(query: str, instruction: str) -> str:
    """The body up to the document: the part one request shares across documents."""
    return f"<Instruct>: {instruction}\n<Query>: {query}\n<Document>:"


def document_part(document: str) -> str:
    return f" {document}"


@dataclass(frozen=True, slots=True)
class Prompt:
    """Token ids of one (query, document) prompt: ``shared + own`` is the whole prompt."""

    shared: tuple[int, ...]
    own: tuple[int, ...]
    truncated: bool = False

    @property
    def ids(self) -> list[int]:
        return [*self.shared, *self.own]

    def __len__(self) -> int:
        return len(self.shared) + len(self.own)


class Qwen3RerankerTemplate:
    """Builds Qwen3-Reranker prompts for one tokenizer; template ids are computed once."""

    version = TEMPLATE_VERSION

    def __init__(self, tokenizer: TextTokenizer, max_length: int = DEFAULT_MAX_LENGTH) -> None:
        self.tokenizer = tokenizer
        self.prefix_ids = tuple(tokenizer.encode_template(PREFIX))
        self.suffix_ids = tuple(tokenizer.encode_template(SUFFIX))
        overhead = len(self.prefix_ids) + len(self.suffix_ids)
        if max_length <= overhead:
            raise ValueError(
                f"max_length must exceed the template's own {overhead} tokens, got {max_length}"
            )
        self.max_length = max_length
        self.body_budget = max_length - overhead

    def build(
        self,
        query: str,
        documents: Sequence[str],
        instruction: str | None = None,
        *,
        max_length: int | None = None,
        max_document_tokens: int | None = None,
        on_overflow: str = "truncate",
    ) -> list[Prompt]:
        """Prompts for one query against many documents.

        The body is cut at its tail to fit ``max_length`` (default, and upper bound: the
        template's), as the official recipe does; ``max_document_tokens`` also caps each
        document. ``on_overflow="error"`` raises instead of cutting.
        """
        budget = self.body_budget
        if max_length is not None:
            budget = min(budget, max_length - len(self.prefix_ids) - len(self.suffix_ids))
            if budget <= 0:
                raise InputTooLongError(f"max_length {max_length} leaves no room for the text")
        head = self.tokenizer.encode_text(query_part(query, instruction or DEFAULT_INSTRUCTION))
        if len(head) > budget and on_overflow == "error":
            raise InputTooLongError(
                f"the query and instruction take {len(head)} tokens, over the budget of {budget}"
            )
        head = head[:budget]
        shared = (*self.prefix_ids, *head)
        room = budget - len(head)
        if max_document_tokens is not None:
            room = min(room, max_document_tokens)
        bodies = self.tokenizer.encode_texts([document_part(doc) for doc in documents])
        prompts = []
        for index, body in enumerate(bodies):
            truncated = len(body) > room
            if truncated and on_overflow == "error":
                raise InputTooLongError(
                    f"document {index} takes {len(body)} tokens, over the {room} it may take "
                    "(max_length less the template and the query, or max_tokens_per_doc)"
                )
            prompts.append(
                Prompt(shared=shared, own=(*body[:room], *self.suffix_ids), truncated=truncated)
            )
        return prompts

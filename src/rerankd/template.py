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

``Prompt`` is re-exported here for the modules that build on the template.
"""

from __future__ import annotations

from collections.abc import Sequence

from rerankd.errors import InputTooLongError
from rerankd.prompts import EncodedDocument, OnOverflow, Prompt, PromptBuilder, Span
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


class Qwen3RerankerTemplate(PromptBuilder):
    """Builds Qwen3-Reranker prompts for one tokenizer; template ids are computed once."""

    version = TEMPLATE_VERSION

    def __init__(self, tokenizer: TextTokenizer, max_length: int = DEFAULT_MAX_LENGTH) -> None:
        super().__init__(tokenizer, max_length)
        self.prefix_ids = tuple(tokenizer.encode_template(PREFIX))
        self.suffix_ids = tuple(tokenizer.encode_template(SUFFIX))
        self.overhead = len(self.prefix_ids) + len(self.suffix_ids)
        if max_length <= self.overhead:
            raise ValueError(
                f"max_length must exceed the template's own {self.overhead} tokens, "
                f"got {max_length}"
            )

    def query_side(
        self, query: str, instruction: str | None, limit: int, on_overflow: OnOverflow
    ) -> tuple[tuple[int, ...], int]:
        """Prefix, instruction and query; as in the official recipe, a body over its budget
        loses its tail, so an overlong query leaves no room for the document."""
        budget = limit - self.overhead
        if budget <= 0:
            raise InputTooLongError(f"max_length {limit} leaves no room for the text")
        head = self.tokenizer.encode_text(query_part(query, instruction or DEFAULT_INSTRUCTION))
        if len(head) > budget and on_overflow == "error":
            raise InputTooLongError(
                f"the query and instruction take {len(head)} tokens, over the budget of {budget}"
            )
        head = head[:budget]
        return (*self.prefix_ids, *head), budget - len(head)

    def encode_documents(self, documents: Sequence[str]) -> list[EncodedDocument]:
        encodings = self.tokenizer.encode_plain_batch([document_part(d) for d in documents])
        # Offsets count the leading space of " {document}": shift them onto the document.
        return [
            EncodedDocument(
                list(encoding.ids),
                [(max(start - 1, 0), max(end - 1, 0)) for start, end in encoding.offsets],
            )
            for encoding in encodings
        ]

    def assemble(
        self, shared: tuple[int, ...], document_ids: Sequence[int], index: int,
        truncated: bool = False, span: Span | None = None,
    ) -> Prompt:
        return Prompt(shared, (*document_ids, *self.suffix_ids), truncated, index, span)

"""The Qwen3-Reranker family: its prompt, built as token ids, and its yes/no head.

The prompt is exactly the one of the model card (QwenLM/Qwen3-Embedding):

    PREFIX + "<Instruct>: {instruction}\\n<Query>: {query}\\n<Document>: {document}" + SUFFIX

Only PREFIX and SUFFIX are parsed for special tokens; the body, which holds the user's
text, goes through the text tokenizer, so a document containing "<|im_end|>" cannot forge
the template. Truncation cuts the body's tail and never the suffix.

A prompt is kept in two parts: ``shared`` (prefix, instruction and query: the same for
every document of one request) and ``own`` (the document and the suffix). Splitting the
body just before " {document}" gives the same tokens as tokenizing it whole, because
Qwen's pre-tokenizer always breaks between ">:" and a following space.

The score is P("yes") = sigmoid(logit_yes - logit_no) at the last position, in fp32.
Only the last hidden state h and w = W[yes] - W[no] are needed: logit_yes - logit_no =
h . w, so the full-vocabulary LM head is never applied (vLLM folds its head the same way,
"from_2_way_softmax").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rerankd.errors import InputTooLongError
from rerankd.options import OnOverflow
from rerankd.prompts import PromptBuilder, TextTokenizer

if TYPE_CHECKING:
    import torch

PREFIX = (
    "<|im_start|>system\nJudge whether the Document meets the requirements based on the Query "
    'and the Instruct provided. Note that the answer can only be "yes" or "no".<|im_end|>\n'
    "<|im_start|>user\n"
)
SUFFIX = "<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"
DEFAULT_INSTRUCTION = (
    "Given a web search query, retrieve relevant passages that answer the query"
)
DEFAULT_MAX_LENGTH = 8192  # the model card's max_length for a whole prompt
# Bumped whenever the prompt or its tokenization changes; part of every cache key.
TEMPLATE_VERSION = "qwen3-reranker/2"
YES_TOKEN = "yes"
NO_TOKEN = "no"


def query_part(query: str, instruction: str) -> str:
    """The body up to the document: the part one request shares across documents."""
    return f"<Instruct>: {instruction}\n<Query>: {query}\n<Document>:"


class Qwen3RerankerPrompts(PromptBuilder):
    """Builds Qwen3-Reranker prompts for one tokenizer; template ids are computed once."""

    version = TEMPLATE_VERSION
    document_text_prefix = " "  # "<Document>: {document}"

    def __init__(self, tokenizer: TextTokenizer, max_length: int = DEFAULT_MAX_LENGTH) -> None:
        super().__init__(tokenizer, max_length)
        self.prefix_ids = tuple(tokenizer.template_ids(PREFIX))
        self.document_close = self.suffix_ids = tuple(tokenizer.template_ids(SUFFIX))
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
        head = self.tokenizer.text_ids(query_part(query, instruction or DEFAULT_INSTRUCTION))
        if len(head) > budget and on_overflow == "error":
            raise InputTooLongError(
                f"the query and instruction take {len(head)} tokens, over the budget of {budget}"
            )
        head = head[:budget]
        return (*self.prefix_ids, *head), budget - len(head)


def yes_no_direction(lm_head_weight: torch.Tensor, yes_id: int, no_id: int) -> torch.Tensor:
    """w = W[yes] - W[no], in fp32, from the rows of a causal LM head."""
    return lm_head_weight[yes_id].float() - lm_head_weight[no_id].float()


def classifier_direction(score_weight: torch.Tensor) -> torch.Tensor:
    """The same w from a converted seq-cls head: one label (w itself) or two ([no, yes])."""
    weight = score_weight.float()
    if weight.shape[0] == 1:
        return weight[0]
    if weight.shape[0] == 2:
        return weight[1] - weight[0]
    raise ValueError(f"a reranker head has 1 or 2 labels, this one has {weight.shape[0]}")


def relevance(last_hidden: torch.Tensor, direction: torch.Tensor) -> torch.Tensor:
    """P("yes") for each row of last-position hidden states, computed in fp32.

    A softmax in bf16 collapses nearby scores into ties, so the dot product and the
    sigmoid run in fp32 whatever dtype the model ran in.
    """
    return (last_hidden.float() @ direction.float()).sigmoid()

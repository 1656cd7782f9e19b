"""The official Qwen3-Reranker transformers recipe, written out independently of rerankd.

Copied in substance from the model card (QwenLM/Qwen3-Embedding,
examples/qwen3_reranker_transformers.py): AutoModelForCausalLM, left padding, full
logits at the last position, log_softmax over [no, yes], batches of 8 in the given order.
It is the yardstick of the parity tests and of ``rerankd bench``, so nothing here
imports the rest of rerankd.
"""

from __future__ import annotations

from typing import Any

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer


class OfficialRecipe:
    """``dtype``: the model card loads float32 (bfloat16 for the precision comparisons).
    ``split_special_tokens``: read special tokens in user text as text (transformers'
    option, off in the model card), for comparing prompts that contain them."""

    def __init__(
        self, model_dir: str, max_length: int = 8192, *, dtype: torch.dtype = torch.float32,
        split_special_tokens: bool = False,
    ) -> None:
        self.tokenizer = AutoTokenizer.from_pretrained(model_dir, padding_side="left")
        self.split_special_tokens = split_special_tokens
        self.model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=dtype).eval()
        self.token_false_id = self.tokenizer.convert_tokens_to_ids("no")
        self.token_true_id = self.tokenizer.convert_tokens_to_ids("yes")
        self.max_length = max_length
        prefix = (
            "<|im_start|>system\nJudge whether the Document meets the requirements based on "
            "the Query and the Instruct provided. Note that the answer can only be \"yes\" or "
            "\"no\".<|im_end|>\n<|im_start|>user\n"
        )
        suffix = "<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"
        self.prefix_tokens = self.tokenizer.encode(prefix, add_special_tokens=False)
        self.suffix_tokens = self.tokenizer.encode(suffix, add_special_tokens=False)

    @staticmethod
    def format_instruction(instruction: str | None, query: str, doc: str) -> str:
        if instruction is None:
            instruction = (
                "Given a web search query, retrieve relevant passages that answer the query"
            )
        return f"<Instruct>: {instruction}\n<Query>: {query}\n<Document>: {doc}"

    def process_inputs(self, pairs: list[str]) -> Any:
        inputs = self.tokenizer(
            pairs, padding=False, truncation="longest_first", return_attention_mask=False,
            max_length=self.max_length - len(self.prefix_tokens) - len(self.suffix_tokens),
            split_special_tokens=self.split_special_tokens,
        )
        for i, ele in enumerate(inputs["input_ids"]):
            inputs["input_ids"][i] = self.prefix_tokens + ele + self.suffix_tokens
        inputs = self.tokenizer.pad(
            inputs, padding=True, return_tensors="pt", max_length=self.max_length
        )
        return inputs

    @torch.no_grad()
    def compute_logits(self, inputs: Any) -> list[float]:
        batch_scores = self.model(**inputs).logits[:, -1, :]
        true_vector = batch_scores[:, self.token_true_id]
        false_vector = batch_scores[:, self.token_false_id]
        batch_scores = torch.stack([false_vector, true_vector], dim=1)
        batch_scores = torch.nn.functional.log_softmax(batch_scores, dim=1)
        scores: list[float] = batch_scores[:, 1].exp().tolist()
        return scores

    def score(
        self, query: str, documents: list[str], instruction: str | None = None,
        batch_size: int = 8,
    ) -> list[float]:
        pairs = [self.format_instruction(instruction, query, doc) for doc in documents]
        scores: list[float] = []
        for start in range(0, len(pairs), batch_size):
            scores += self.compute_logits(self.process_inputs(pairs[start : start + batch_size]))
        return scores

    def prompt_ids(self, query: str, document: str, instruction: str | None = None) -> list[int]:
        inputs = self.process_inputs([self.format_instruction(instruction, query, document)])
        return inputs["input_ids"][0].tolist()

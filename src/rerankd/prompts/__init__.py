"""Prompts as token ids: what a prompt is, the builder every model family shares, and the
tokenizer that keeps user text as text."""

from rerankd.prompts.builder import EncodedDocument, PromptBuilder
from rerankd.prompts.prompt import Prompt, Span
from rerankd.prompts.tokenizer import TextTokenizer

__all__ = ["EncodedDocument", "Prompt", "PromptBuilder", "Span", "TextTokenizer"]

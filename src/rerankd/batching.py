"""Grouping prompts into batches: length-sorted, under a budget of padded tokens."""

from __future__ import annotations

from collections.abc import Sequence

DEFAULT_MAX_BATCH_TOKENS = 16384
DEFAULT_MAX_BATCH_SIZE = 64


def plan_batches(
    lengths: Sequence[int],
    max_batch_tokens: int = DEFAULT_MAX_BATCH_TOKENS,
    max_batch_size: int = DEFAULT_MAX_BATCH_SIZE,
) -> list[list[int]]:
    """Split item indices into batches whose padded size (rows x longest) fits the budget.

    Items are sorted longest first, so neighbours have similar lengths (little padding)
    and the largest batch runs first. An item longer than the budget runs alone.
    """
    order = sorted(range(len(lengths)), key=lambda index: -lengths[index])
    batches: list[list[int]] = []
    current: list[int] = []
    for index in order:
        longest = lengths[current[0]] if current else lengths[index]
        if current and (
            len(current) >= max_batch_size or (len(current) + 1) * longest > max_batch_tokens
        ):
            batches.append(current)
            current = []
        current.append(index)
    if current:
        batches.append(current)
    return batches

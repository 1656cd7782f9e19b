"""Fields shared by the dialects, including rerankd's extensions."""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

PositiveInt = Annotated[int, Field(ge=1)]
OverflowPolicy = Literal["truncate", "error"]


class RequestModel(BaseModel):
    """Unknown fields are ignored, as the servers users come from do."""

    model_config = ConfigDict(extra="ignore")


class RerankdOptions(RequestModel):
    """Extensions every rerank dialect accepts."""

    instruction: str | None = Field(
        default=None, description="Task instruction (English), e.g. 'Given a code search query, "
        "retrieve code that answers it'. Default: the model card's web-search instruction.",
    )
    max_length: PositiveInt | None = Field(
        default=None,
        description="Cap on each prompt's length in tokens (at most the server's).",
    )
    on_overflow: OverflowPolicy = Field(
        default="truncate",
        description="What to do with a document over its token budget: cut its tail, or "
        "refuse the request with a 422.",
    )


def logit(probability: float) -> float:
    """The raw score (logit_yes - logit_no) behind a probability, kept finite for JSON."""
    clamped = min(max(probability, 1e-38), 1.0 - 1e-16)
    return math.log(clamped) - math.log1p(-clamped)

"""Fields shared by the dialects: rerankd's ranking options, passages, truncation notes."""

from __future__ import annotations

import math
from dataclasses import fields
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from rerankd.options import OPTION_NAMES, OPTION_TYPES, RankOptions
from rerankd.ranking import RankResult

PositiveInt = Annotated[int, Field(ge=1)]
# top_n: 0 means "all", as vLLM reads it.
TopN = Annotated[int, Field(ge=0, description="How many results to return (0 or absent: all).")]


class RequestModel(BaseModel):
    """Unknown fields are ignored, as the servers users come from do."""

    model_config = ConfigDict(extra="ignore")


def _option_fields() -> dict[str, Any]:
    """RankOptions as request fields, with their types and descriptions."""
    declared = {}
    for item in fields(RankOptions):
        kind = OPTION_TYPES[item.name]
        annotation: Any = Literal[kind] if isinstance(kind, tuple) else kind
        declared[item.name] = (
            annotation | None, Field(default=None, description=item.metadata["description"]),
        )
    return declared


if TYPE_CHECKING:

    class RerankdOptions(RequestModel):
        """The ranking options every dialect accepts (fields from RankOptions)."""

else:
    RerankdOptions = create_model(
        "RerankdOptions", __base__=RequestModel, __doc__="The ranking options every dialect "
        "accepts (fields from RankOptions).", **_option_fields(),
    )


def rank_options(body: BaseModel, **overrides: Any) -> RankOptions:
    """The RankOptions a request body sets (each dialect's own spellings as overrides)."""
    values = {name: getattr(body, name) for name in OPTION_NAMES}
    values.update({name: value for name, value in overrides.items() if value is not None})
    return RankOptions(**values)


class Passage(BaseModel):
    """Characters [start, end) of the document: its best-scoring chunk."""

    start: int
    end: int


def passage_of(result: RankResult) -> Passage | None:
    return Passage(start=result.passage[0], end=result.passage[1]) if result.passage else None


TRUNCATED_HEADER = "x-rerankd-truncated-documents"


def truncation_headers(indices: list[int]) -> dict[str, str]:
    """Response header naming the documents whose text was not all scored."""
    if not indices:
        return {}
    return {TRUNCATED_HEADER: ",".join(map(str, indices))}


def truncation_warning(indices: list[int]) -> str:
    return (
        f"documents {', '.join(map(str, indices))} were longer than their token budget; "
        "only part of their text was scored"
    )


def logit(probability: float) -> float:
    """The raw score (logit_yes - logit_no) behind a probability, kept finite for JSON."""
    clamped = min(max(probability, 1e-38), 1.0 - 1e-16)
    return math.log(clamped) - math.log1p(-clamped)

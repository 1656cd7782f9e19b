"""POST /score and /v1/score: vLLM's score API."""

from __future__ import annotations

import time
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from rerankd.errors import InvalidInputError
from rerankd.ranking import DocumentScore, PairRequest
from rerankd.server.protocol.common import PositiveInt, RerankdOptions, logit, rank_options


class ScoreRequest(RerankdOptions):
    model: str | None = Field(default=None, description="Accepted and ignored.")
    text_1: str | list[str] | None = Field(default=None, description="Query or queries.")
    text_2: str | list[str] | None = Field(default=None, description="Document or documents.")
    queries: str | list[str] | None = Field(default=None, description="Alias of text_1.")
    documents: str | list[str] | None = Field(default=None, description="Alias of text_2.")
    truncate_prompt_tokens: PositiveInt | None = Field(
        default=None, description="Cap on the whole prompt; the document's tail is cut."
    )
    use_activation: bool = Field(default=True, description="false: raw logits.")

    @model_validator(mode="after")
    def both_sides_present(self) -> ScoreRequest:
        if self.left() is None or self.right() is None:
            raise ValueError("send `text_1` and `text_2` (or `queries` and `documents`)")
        return self

    def left(self) -> str | list[str] | None:
        return self.text_1 if self.text_1 is not None else self.queries

    def right(self) -> str | list[str] | None:
        return self.text_2 if self.text_2 is not None else self.documents

    def pairs(self) -> list[tuple[str, str]]:
        """(query, document) pairs: 1 to 1, 1 to N, or N to N zipped."""
        left, right = self.left(), self.right()
        queries = [left] if isinstance(left, str) else list(left or [])
        documents = [right] if isinstance(right, str) else list(right or [])
        if not queries or not documents:
            raise InvalidInputError("send at least one query and one document")
        if len(queries) == 1:
            return [(queries[0], document) for document in documents]
        if len(queries) != len(documents):
            raise InvalidInputError(
                f"{len(queries)} queries and {len(documents)} documents: send one query, "
                "or as many queries as documents"
            )
        return list(zip(queries, documents, strict=True))

    def to_pair_request(self) -> PairRequest:
        return PairRequest(
            self.pairs(), rank_options(self, max_length=self.truncate_prompt_tokens)
        )


class ScoreData(BaseModel):
    index: int
    object: Literal["score"] = "score"
    score: float
    truncated: bool | None = None


class ScoreUsage(BaseModel):
    prompt_tokens: int
    total_tokens: int
    completion_tokens: int = 0


class ScoreResponse(BaseModel):
    id: str
    object: Literal["list"] = "list"
    created: int
    model: str
    data: list[ScoreData]
    usage: ScoreUsage

    @classmethod
    def from_scores(
        cls, scores: list[DocumentScore], body: ScoreRequest, *, request_id: str, model: str
    ) -> ScoreResponse:
        tokens = sum(item.prompt_tokens for item in scores)
        return cls(
            id=f"score-{request_id}", created=int(time.time()), model=model,
            data=[
                ScoreData(
                    index=index, score=item.score if body.use_activation else logit(item.score),
                    truncated=item.truncated or None,
                )
                for index, item in enumerate(scores)
            ],
            usage=ScoreUsage(prompt_tokens=tokens, total_tokens=tokens),
        )

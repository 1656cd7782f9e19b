"""The request every rerank route takes, in each client's spelling, and which answer shape
it gets back.

One model covers the seed contract (``{query, documents: [str]}``), TEI (``texts``),
Cohere v1/v2 and Jina (``documents`` as strings or objects, ``top_n``,
``return_documents``, ``rank_fields``), because apps send each of them to each path:
Dify's TEI provider posts ``texts`` to ``{base}/rerank`` whatever the base, cohere 5.6
posts Cohere v1 to a bare host's ``/rerank``. The answer's shape follows the request and
the path (``answer_shape``); the seed shape (``document`` a string) is kept for the seed's
own request only, since Cohere and Jina clients crash on a string ``document``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from rerankd.errors import InvalidInputError
from rerankd.options import check_text
from rerankd.ranking import Ranking, RankRequest
from rerankd.server.protocol.common import (
    Passage,
    RerankdOptions,
    TopN,
    logit,
    passage_of,
    rank_options,
)

AnswerShape = Literal["seed", "tei", "cohere-v1", "cohere-v2"]
# The API version a path speaks: None for the bare /rerank, whose shape follows the request.
RERANK_PATHS: dict[str, Literal["1", "2"] | None] = {
    "/rerank": None,
    "/v1/rerank": "1",
    "/v2/rerank": "2",
    # A base URL that already ends in /v1, given to cohere >= 5.8 (v1 and v2 clients),
    # xinference-client or RAGFlow's GPUStack provider.
    "/v1/v1/rerank": "1",
    "/v1/v2/rerank": "2",
}


class DocumentObject(BaseModel):
    """A document as an object: ``text`` (or the ``rank_fields``, or the text parts of a
    vLLM-style ``content`` list) is scored, and every field comes back untouched."""

    model_config = ConfigDict(extra="allow")
    text: str | None = None

    @model_validator(mode="after")
    def only_valid_text(self) -> DocumentObject:
        """Every field is echoed back, so every string in it must be valid text (JSON can
        carry lone surrogates, which cannot be written out again)."""
        _check_strings("document", self.model_dump())
        return self

    def scored_text(self, index: int, rank_fields: list[str] | None) -> str:
        fields = self.model_dump(exclude_unset=True)
        if rank_fields:
            lines = [f"{name}: {fields[name]}" for name in rank_fields if name in fields]
            if not lines:
                raise InvalidInputError(
                    f"documents[{index}] has none of the rank_fields {rank_fields}"
                )
            return "\n".join(lines)
        if isinstance(fields.get("text"), str):
            return str(fields["text"])
        if isinstance(fields.get("content"), list):
            return _text_parts(index, fields["content"])
        raise InvalidInputError(f"documents[{index}] has no \"text\" field (or name rank_fields)")


class RerankRequest(RerankdOptions):
    query: str = Field(description="The search query.")
    documents: list[str | DocumentObject] | None = Field(
        default=None, min_length=1,
        description="The documents: strings, or objects with a text field (Jina, Cohere).",
    )
    texts: list[str] | None = Field(default=None, min_length=1, description="TEI: documents.")
    model: str | None = Field(default=None, description="Accepted and ignored.")
    top_n: TopN | None = None
    return_documents: bool | None = Field(
        default=None, description="Return each document with its result (default: true, "
        "false on /v2/rerank). Objects come back untouched.",
    )
    rank_fields: list[str] | None = Field(
        default=None, min_length=1,
        description="Cohere v1: score these fields of each document object, as "
        "'field: value' lines (e.g. ['title', 'text']).",
    )
    # TEI options
    raw_scores: bool = Field(default=False, description="TEI: logits instead of probabilities.")
    return_text: bool = Field(default=False, description="TEI: each result's text.")
    truncate: bool | None = Field(
        default=None, description="TEI: false refuses over-long inputs; default truncates."
    )
    truncation_direction: Literal["Right", "right"] = Field(
        default="Right", description="Only Right: the prompt's suffix must stay last."
    )

    @model_validator(mode="after")
    def one_document_field(self) -> RerankRequest:
        if (self.documents is None) == (self.texts is None):
            raise ValueError("send the documents as either `documents` or `texts` (TEI)")
        return self

    def answer_shape(self, version: Literal["1", "2"] | None) -> AnswerShape:
        """TEI for ``texts``; on the bare /rerank, the seed's shape for the seed's request
        alone (query and string documents); else Cohere/Jina."""
        if self.texts is not None:
            return "tei"
        if version == "2":
            return "cohere-v2"
        if version is None and self.is_seed_request:
            return "seed"
        return "cohere-v1"

    @property
    def is_seed_request(self) -> bool:
        cohere_fields = {"model", "top_n", "return_documents", "rank_fields"}
        return not (cohere_fields & self.model_fields_set) and all(
            isinstance(document, str) for document in self.documents or []
        )

    def document_texts(self) -> list[str]:
        if self.texts is not None:
            return self.texts
        return [
            document if isinstance(document, str)
            else document.scored_text(index, self.rank_fields)
            for index, document in enumerate(self.documents or [])
        ]

    def to_rank_request(self) -> RankRequest:
        return RankRequest(
            query=self.query, documents=self.document_texts(), top_n=self.top_n or None,
            options=rank_options(self, on_overflow="error" if self.truncate is False else None),
        )


# Levels of objects and lists within a document object: deep enough for any metadata,
# well short of what the JSON writer refuses (about 255) when the document is echoed.
MAX_DOCUMENT_DEPTH = 32


def _check_strings(name: str, value: Any, depth: int = 0) -> None:
    if depth > MAX_DOCUMENT_DEPTH:
        raise ValueError(f"{name} nests objects and lists more than {MAX_DOCUMENT_DEPTH} deep")
    if isinstance(value, str):
        try:
            check_text(name, value)
        except InvalidInputError as error:
            raise ValueError(str(error)) from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_strings(f"a key of {name}", key, depth)  # before it goes into a name
            _check_strings(f"{name}.{key}", item, depth + 1)
    elif isinstance(value, list):
        for position, item in enumerate(value):
            _check_strings(f"{name}[{position}]", item, depth + 1)


def _text_parts(index: int, parts: list[Any]) -> str:
    """The text of a vLLM-style multimodal document (``[{"type": "text", "text": ...}]``)."""
    texts = []
    for part in parts:
        if not isinstance(part, dict) or part.get("type") != "text":
            raise InvalidInputError(
                f"documents[{index}] has a part that is not text; rerankd scores text only"
            )
        texts.append(str(part.get("text", "")))
    return "\n".join(texts)


class RerankResult(BaseModel):
    index: int
    relevance_score: float
    document: str
    truncated: bool | None = Field(default=None, description="Present when not all scored.")
    passage: Passage | None = Field(default=None, description="The best chunk's characters.")


class Usage(BaseModel):
    total_tokens: int


class RerankResponse(BaseModel):
    """The seed contract's answer."""

    model: str
    results: list[RerankResult]
    usage: Usage

    @classmethod
    def from_ranking(cls, ranking: Ranking, model: str) -> RerankResponse:
        return cls(
            model=model,
            results=[
                RerankResult(
                    index=result.index, relevance_score=result.relevance_score,
                    document=result.document, truncated=result.truncated or None,
                    passage=passage_of(result),
                )
                for result in ranking.results
            ],
            usage=Usage(total_tokens=ranking.prompt_tokens),
        )


class TEIRank(BaseModel):
    """One item of TEI's answer, a list sorted by score."""

    index: int
    score: float
    text: str | None = None
    truncated: bool | None = None
    passage: Passage | None = None

    @classmethod
    def from_ranking(cls, ranking: Ranking, body: RerankRequest) -> list[TEIRank]:
        return [
            cls(
                index=result.index,
                score=logit(result.relevance_score) if body.raw_scores else result.relevance_score,
                text=result.document if body.return_text else None,
                truncated=result.truncated or None, passage=passage_of(result),
            )
            for result in ranking.results
        ]

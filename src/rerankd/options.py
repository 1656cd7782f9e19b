"""Per-request ranking options: one frozen value, resolved once against the defaults of the
server or the library, handed to the prompt builder whole and hashed into the cache key.

Every API dialect, the library, the CLI and the UI spell their options as a RankOptions;
this is the one place their names, types and rules are declared.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal, get_args, get_origin, get_type_hints

from rerankd.errors import InvalidInputError

OnOverflow = Literal["truncate", "error"]
LongDocs = Literal["truncate", "chunk"]
ChunkAggregate = Literal["max", "top2-mean"]

def option(description: str) -> Any:
    """A field of RankOptions; its description is the API documentation of the field."""
    return field(default=None, metadata={"description": description})


@dataclass(frozen=True, slots=True)
class RankOptions:
    """How one request's prompts are built and its chunks scored. ``None`` everywhere means
    "the default": the server's flags, or the library's settings."""

    instruction: str | None = option(
        "Task instruction (English), e.g. 'Given a code search query, retrieve code that "
        "answers it'. Default: the model card's web-search instruction."
    )
    max_length: int | None = option(
        "Cap on each prompt's length in tokens (at most the server's)."
    )
    max_tokens_per_doc: int | None = option("Cap on each document's tokens.")
    max_tokens_per_query: int | None = option("Cap on the query's tokens.")
    on_overflow: OnOverflow | None = option(
        "A document or query over its token budget: cut its tail (truncate, the default), "
        "or refuse the request with a 422 (error)."
    )
    long_docs: LongDocs | None = option(
        "Over-long documents: cut their tail, or split them into overlapping windows "
        "scored separately (default: the server's --long-docs)."
    )
    max_chunks_per_doc: int | None = option(
        "Chunk over-long documents into at most this many windows (implies chunking)."
    )
    chunk_aggregate: ChunkAggregate | None = option(
        "A chunked document's score: its best window (max), or the mean of its best two."
    )

    @property
    def chunked(self) -> bool:
        return self.long_docs == "chunk"

    def validated(self) -> RankOptions:
        """Raise InvalidInputError for a value a caller could get wrong."""
        if self.instruction is not None:
            if not isinstance(self.instruction, str):
                raise InvalidInputError("instruction must be a string")
            check_text("instruction", self.instruction)
        for name, kind in OPTION_TYPES.items():
            value = getattr(self, name)
            if kind is int:
                check_positive(name, value)
            elif isinstance(kind, tuple) and value is not None and value not in kind:
                raise InvalidInputError(
                    f"{name} must be {' or '.join(repr(choice) for choice in kind)}, "
                    f"got {value!r}"
                )
        return self

    def resolve(self, defaults: RankOptions) -> RankOptions:
        """Every field decided: this request's value, else the default's.

        ``max_length`` can only lower the default. Naming ``max_chunks_per_doc`` asks for
        chunking unless ``long_docs`` says otherwise. Chunk settings are cleared where
        documents are cut, so that they never split the cache.
        """
        if self.long_docs is not None:
            long_docs = self.long_docs
        elif self.max_chunks_per_doc is not None:
            long_docs = "chunk"
        else:
            long_docs = defaults.long_docs or "truncate"
        chunked = long_docs == "chunk"
        limit = defaults.max_length
        if self.max_length is not None:
            limit = min(self.max_length, limit) if limit is not None else self.max_length
        return RankOptions(
            instruction=self.instruction or defaults.instruction,
            max_length=limit,
            max_tokens_per_doc=self.max_tokens_per_doc or defaults.max_tokens_per_doc,
            max_tokens_per_query=self.max_tokens_per_query or defaults.max_tokens_per_query,
            on_overflow=self.on_overflow or defaults.on_overflow or "truncate",
            long_docs=long_docs,
            max_chunks_per_doc=(
                (self.max_chunks_per_doc or defaults.max_chunks_per_doc) if chunked else None
            ),
            chunk_aggregate=(
                (self.chunk_aggregate or defaults.chunk_aggregate or "max") if chunked else None
            ),
        )

    def given(self) -> dict[str, Any]:
        """The fields that are set, by name (for a request body)."""
        return {name: value for name, value in asdict(self).items() if value is not None}


OPTION_NAMES = tuple(item.name for item in fields(RankOptions))


def _option_types() -> dict[str, Any]:
    """Each option's type without its None: a Python type, or the tuple of a Literal's
    choices."""
    kinds: dict[str, Any] = {}
    for name, hint in get_type_hints(RankOptions).items():
        (kind,) = [arg for arg in get_args(hint) if arg is not type(None)]
        kinds[name] = get_args(kind) if get_origin(kind) is Literal else kind
    return kinds


OPTION_TYPES = _option_types()


def check_positive(name: str, value: object) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise InvalidInputError(f"{name} must be a positive integer, got {value!r}")


def check_text(name: str, text: str) -> None:
    """JSON can carry lone UTF-16 surrogates ("\\ud800"); they are not text."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInputError(f"{name} contains an unpaired surrogate, not valid text") from None

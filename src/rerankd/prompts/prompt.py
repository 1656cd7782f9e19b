"""One prompt: the token ids a model scores, in two parts."""

from __future__ import annotations

from dataclasses import dataclass

Span = tuple[int, int]


@dataclass(frozen=True, slots=True)
class Prompt:
    """Token ids of one prompt: ``shared + own`` is the whole prompt.

    ``shared`` is the query side (the same for every document of a request), ``own`` the
    document side. ``document`` is the index of the document it scores and ``span`` the
    characters of that document it holds when the document was split into chunks.
    """

    shared: tuple[int, ...]
    own: tuple[int, ...]
    truncated: bool = False
    document: int = 0
    span: Span | None = None

    @property
    def ids(self) -> list[int]:
        return [*self.shared, *self.own]

    def __len__(self) -> int:
        return len(self.shared) + len(self.own)

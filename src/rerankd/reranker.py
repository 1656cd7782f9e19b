"""The library: ``Reranker(model).rank(query, documents)``, a synchronous face over the
same engine the server runs (validation, options, cache, batching, long documents)."""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from rerankd.backends import ScoringBackend, load_backend
from rerankd.config import SECTIONS, EngineConfig, ModelConfig, build_section, schema
from rerankd.engine import RerankEngine
from rerankd.loading import DEFAULT_MODEL, resolve_model
from rerankd.loop_thread import LoopThread
from rerankd.options import RankOptions
from rerankd.prompts import PromptBuilder
from rerankd.ranking import PairRequest, RankRequest, RankResult

# The library keeps no score cache unless asked: a program that scores the same pair
# twice usually means to (benchmarks, checks), and memory is the caller's.
LIBRARY_DEFAULTS = {"cache_size": 0}


class Reranker:
    """Scores (query, document) pairs with a reranker model, in process.

    ``options`` are the model and engine settings of ``rerankd serve``, by the same names
    (see ``rerankd serve --help``): ``device``, ``dtype``, ``quantize``, ``max_length``,
    ``max_batch_tokens``, ``cache_size``, ``long_docs``...

    >>> reranker = Reranker("Qwen/Qwen3-Reranker-0.6B")
    >>> reranker.rank("what is rerankd?", ["a reranking service", "a cake recipe"])
    """

    def __init__(self, model: str = DEFAULT_MODEL, **options: Any) -> None:
        model_config, engine_config = library_config(model, options)
        source = resolve_model(model, hub=model_config.hub, revision=model_config.revision)
        backend = load_backend(source, model_config, max_length=engine_config.max_length)
        self._start(backend, engine_config)

    @classmethod
    def from_backend(cls, backend: ScoringBackend, **options: Any) -> Reranker:
        """Over a backend that is already loaded (engine settings only)."""
        _, engine_config = library_config(None, options, sections=("engine",))
        reranker = cls.__new__(cls)
        reranker._start(backend, engine_config)
        return reranker

    def _start(self, backend: ScoringBackend, config: EngineConfig) -> None:
        self.backend = backend
        self.engine = RerankEngine(backend, config)
        self._loop = LoopThread("rerankd-library")
        self._loop.run(self.engine.start(warm_up=False))
        # Stopped when the Reranker is collected, or at interpreter exit.
        self.close = weakref.finalize(self, _stop, self._loop, self.engine)

    @property
    def prompt_builder(self) -> PromptBuilder:
        return self.engine.prompt_builder

    @property
    def max_length(self) -> int:
        return self.engine.prompt_builder.max_length

    def rank(
        self,
        query: str,
        documents: Sequence[str],
        instruction: str | None = None,
        top_n: int | None = None,
        *,
        progress: bool = False,
        **options: Any,
    ) -> list[RankResult]:
        """Documents best first, with their original index and relevance score.

        ``options`` are the per-request options of every API (RankOptions):
        ``max_tokens_per_doc``, ``max_tokens_per_query``, ``on_overflow``, ``long_docs``,
        ``max_chunks_per_doc``, ``chunk_aggregate``, ``max_length``. A document over its
        budget is cut at its tail; with ``long_docs="chunk"`` (or a
        ``max_chunks_per_doc``) it is split into overlapping windows instead, scored by
        its best window (or the mean of its best two), whose characters come back as
        ``passage``.
        """
        request = RankRequest(query, documents, _options(instruction, options), top_n)
        with _progress_bar(progress) as bar:
            return self._loop.run(self.engine.rank(request, bar)).results

    def score(
        self,
        pairs: Iterable[tuple[str, str]],
        instruction: str | None = None,
        *,
        progress: bool = False,
        **options: Any,
    ) -> list[float]:
        """P("yes") for each (query, document) pair, in order."""
        request = PairRequest(list(pairs), _options(instruction, options))
        with _progress_bar(progress) as bar:
            scores = self._loop.run(self.engine.score(request, bar))
        return [scored.score for scored in scores]



def _stop(loop: LoopThread, engine: RerankEngine) -> None:
    """Stop the engine's worker and its loop (a backend with processes of its own, like
    vLLM's, is stopped at interpreter exit or by its own ``close``)."""
    loop.run(engine.stop())
    loop.stop()


def library_config(
    model: str | None, options: dict[str, Any], sections: tuple[str, ...] = ("model", "engine")
) -> tuple[ModelConfig, EngineConfig]:
    """The model and engine settings from keyword arguments, checked as the server checks
    its flags."""
    known = {item.name for section in sections for item in schema(SECTIONS[section])}
    unknown = set(options) - known - {"model"}
    if unknown:
        raise TypeError(
            f"unknown Reranker options: {', '.join(sorted(unknown))}; "
            f"the options are {', '.join(sorted(known - {'model'}))}"
        )
    values = {**LIBRARY_DEFAULTS, **options, "model": model}
    return build_section(ModelConfig, values, {}), build_section(EngineConfig, values, {})


def _options(instruction: str | None, options: dict[str, Any]) -> RankOptions:
    try:
        return RankOptions(instruction=instruction, **options)
    except TypeError:
        from rerankd.options import OPTION_NAMES

        unknown = sorted(set(options) - set(OPTION_NAMES))
        raise TypeError(
            f"unknown ranking options: {', '.join(unknown)}; the options are "
            f"{', '.join(OPTION_NAMES)}"
        ) from None


@contextmanager
def _progress_bar(enabled: bool) -> Iterator[Any]:
    """A tqdm bar on stderr for the prompts of one call, or nothing."""
    if not enabled:
        yield None
        return
    from tqdm import tqdm

    bar = tqdm(unit="prompt", desc="scoring", leave=False)
    try:
        yield bar
    finally:
        bar.close()

"""rerankd: a local reranking service built around Qwen3-Reranker.

    from rerankd import Reranker
    Reranker("Qwen/Qwen3-Reranker-0.6B").rank(query, documents, top_n=3)
"""

from rerankd.errors import ModelUnavailableError, RerankdError
from rerankd.ranking import RankResult
from rerankd.reranker import Reranker
from rerankd.template import DEFAULT_INSTRUCTION

__all__ = ["DEFAULT_INSTRUCTION", "ModelUnavailableError", "RankResult", "RerankdError", "Reranker"]
__version__ = "0.1.0"

"""rerankd: a local reranking service built around Qwen3-Reranker.

    from rerankd import Reranker
    Reranker("Qwen/Qwen3-Reranker-0.6B").rank(query, documents, top_n=3)
"""

from rerankd.errors import ModelUnavailableError, RerankdError
from rerankd.families.qwen3 import DEFAULT_INSTRUCTION
from rerankd.options import RankOptions
from rerankd.ranking import RankResult
from rerankd.reranker import Reranker

__all__ = [
    "DEFAULT_INSTRUCTION", "ModelUnavailableError", "RankOptions", "RankResult",
    "RerankdError", "Reranker",
]
__version__ = "0.1.0"

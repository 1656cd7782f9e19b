"""One router per task: rerank (seed/TEI), cohere (Cohere/Jina), score (vLLM), system."""

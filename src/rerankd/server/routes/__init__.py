"""One router per task: rerank (every rerank dialect on every rerank path), score (vLLM),
system (health, models, model checks, metrics)."""

"""Model families: each one's prompt format (and, for Qwen3, its yes/no head) in one file."""

"""``rerankd eval``: retrieval quality on BEIR-format data, first stage then rerank."""

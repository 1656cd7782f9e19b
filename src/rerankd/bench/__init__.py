"""``rerankd bench``: rerankd against the official recipe, in process and over HTTP."""

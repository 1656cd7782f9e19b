"""Request and response models of every API dialect rerankd speaks, apart from the engine.

Each request model ends in one bridge to the engine (``to_rank_request()``, or
``to_pair_request()`` for /score), and each response model is built from the engine's
answer by one function of its own (``from_ranking()``, ``from_scores()``).
"""

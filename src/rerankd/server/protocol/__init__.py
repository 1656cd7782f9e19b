"""Request and response models of every API dialect rerankd speaks, apart from the engine.

The only bridge to the engine is ``to_rank_request()`` on each request model.
"""

"""The yes/no relevance head: score = P("yes") = sigmoid(logit_yes - logit_no), in fp32.

Only the last hidden state h and the row difference w = W[yes] - W[no] are needed:
logit_yes - logit_no = h . W[yes] - h . W[no] = h . w. The full-vocabulary LM head is never
applied (vLLM folds its head the same way, "from_2_way_softmax").
"""

from __future__ import annotations

import torch

YES_TOKEN = "yes"
NO_TOKEN = "no"


def yes_no_direction(lm_head_weight: torch.Tensor, yes_id: int, no_id: int) -> torch.Tensor:
    """w = W[yes] - W[no], in fp32, from the rows of a causal LM head."""
    return lm_head_weight[yes_id].float() - lm_head_weight[no_id].float()


def classifier_direction(score_weight: torch.Tensor) -> torch.Tensor:
    """The same w from a converted seq-cls head: one label (w itself) or two ([no, yes])."""
    weight = score_weight.float()
    if weight.shape[0] == 1:
        return weight[0]
    if weight.shape[0] == 2:
        return weight[1] - weight[0]
    raise ValueError(f"a reranker head has 1 or 2 labels, this one has {weight.shape[0]}")


def relevance(last_hidden: torch.Tensor, direction: torch.Tensor) -> torch.Tensor:
    """P("yes") for each row of last-position hidden states, computed in fp32.

    A softmax in bf16 collapses nearby scores into ties, so the dot product and the
    sigmoid run in fp32 whatever dtype the model ran in.
    """
    return torch.sigmoid(last_hidden.float() @ direction.float())

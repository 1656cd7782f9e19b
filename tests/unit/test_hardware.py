"""--dtype auto follows the hardware: bf16 on CUDA and on CPUs with native bf16, fp32
elsewhere; the choice is tested with the CPU's bf16 support faked both ways."""

from __future__ import annotations

import pytest
import torch

from rerankd import Reranker
from rerankd.backends import hardware
from rerankd.backends.hardware import cpu_feature_flags, resolve_dtype

AVX2_ONLY = frozenset({"sse4_2", "avx", "avx2", "fma"})
AVX512_BF16 = AVX2_ONLY | {"avx512f", "avx512_bf16", "avx512_vnni"}  # AMD Zen 4/5
AMX = AVX2_ONLY | {"avx512f", "amx_tile", "amx_bf16", "amx_int8"}  # Intel Sapphire Rapids+
CPU = torch.device("cpu")


@pytest.mark.parametrize(
    ("flags", "expected"),
    [(AVX2_ONLY, torch.float32), (AVX512_BF16, torch.bfloat16), (AMX, torch.bfloat16),
     (frozenset(), torch.float32)],
    ids=["avx2-only", "avx512-bf16", "amx", "unknown"],
)
def test_auto_follows_the_cpu(flags, expected):
    assert resolve_dtype("auto", CPU, flags) == expected
    assert resolve_dtype(None, CPU, flags) == expected


def test_auto_is_bf16_on_cuda_and_an_explicit_dtype_wins():
    assert resolve_dtype("auto", torch.device("cuda"), AVX2_ONLY) == torch.bfloat16
    for flags in (AVX2_ONLY, AMX):
        assert resolve_dtype("float32", CPU, flags) == torch.float32
        assert resolve_dtype("bf16", CPU, flags) == torch.bfloat16
    with pytest.raises(ValueError, match="unknown dtype 'float8'"):
        resolve_dtype("float8", CPU, AMX)


def test_this_machines_flags_are_read():
    flags = cpu_feature_flags()
    assert flags, "no CPU flags found"
    print(f"this CPU: native bf16 = {hardware.native_bf16(flags)}")


@pytest.mark.parametrize(
    ("flags", "dtype"), [(AVX2_ONLY, "float32"), (AMX, "bfloat16")], ids=["avx2-only", "amx"]
)
def test_a_loaded_model_runs_at_the_dtype_the_faked_cpu_calls_for(
    tiny_model_dir, monkeypatch, flags, dtype
):
    """Through the library as a user loads a model: the choice reaches the backend, and
    scores stay fp32 probabilities."""
    monkeypatch.setattr(hardware, "cpu_feature_flags", lambda: flags)
    reranker = Reranker(str(tiny_model_dir), max_length=256)
    assert reranker.backend.info.dtype == dtype
    scores = reranker.score([("capital of China", "Beijing"), ("capital of China", "Bananas")])
    assert all(isinstance(score, float) and 0.0 < score < 1.0 for score in scores)

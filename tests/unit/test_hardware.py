"""--dtype auto follows the hardware: bf16 on CUDA and on CPUs with native bf16, fp32
elsewhere; the choice is tested with the CPU's bf16 support faked both ways."""

from __future__ import annotations

import pytest
import torch

from rerankd import Reranker
from rerankd.backends import hardware
from rerankd.backends.hardware import (
    cpu_feature_flags,
    cpu_linear_kernel,
    int8_activation_levels,
    resolve_dtype,
)

AVX2_ONLY = frozenset({"sse4_2", "avx", "avx2", "fma"})
AVX512 = AVX2_ONLY | {"avx512f", "avx512bw", "avx512vl", "avx512dq"}  # e.g. Skylake-SP
AVX512_BF16 = AVX512 | {"avx512_bf16", "avx512_vnni"}  # AMD Zen 4/5
AMX = AVX512 | {"amx_tile", "amx_bf16", "amx_int8"}  # Intel Sapphire Rapids+
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


@pytest.mark.parametrize(
    ("flags", "expected"), [(AVX2_ONLY, "aten"), (AVX512, "onednn"), (AVX512_BF16, "onednn")],
    ids=["avx2-only", "avx512", "avx512-bf16"],
)
def test_the_fp32_gemm_follows_the_cpu(flags, expected):
    """MKL for fp32 on AVX2 (the faster there), oneDNN on AVX-512 (MKL's fp32 is under half
    of oneDNN's on AMD's)."""
    assert cpu_linear_kernel(torch.float32, flags) == expected


@pytest.mark.parametrize("has_kernels", [True, False], ids=["onednn-16bit", "no-16bit"])
def test_a_16bit_gemm_runs_on_onednn_only_where_it_has_kernels(monkeypatch, has_kernels):
    """Never a 16-bit oneDNN GEMM on a CPU without kernels for it (it fails at load):
    MKL's emulated one then, slow but right."""
    monkeypatch.setattr(hardware, "onednn_has_kernels", lambda dtype: has_kernels)
    for dtype in (torch.bfloat16, torch.float16):
        assert cpu_linear_kernel(dtype, AVX2_ONLY) == ("onednn" if has_kernels else "aten")


def test_onednn_detection_agrees_with_the_cpu_flags():
    """oneDNN's bf16 kernels need AVX512-BW/VL/DQ (or AVX-NE-CONVERT, AMX)."""
    flags = cpu_feature_flags()
    needs = {"avx512bw", "avx512vl", "avx512dq"} <= flags or bool(
        flags & {"avx_ne_convert", "amx_bf16"}
    )
    assert hardware.onednn_has_kernels(torch.bfloat16) == needs


def test_fp32_scores_are_the_same_on_either_gemm(tiny_model_dir, monkeypatch):
    """The oneDNN fp32 path (prepacked weights, SiLU and multiply in the GEMM epilogue) an
    AVX-512 CPU takes scores as MKL's does; oneDNN's fp32 kernels run on any x86 CPU."""
    pairs = [("capital of China", "Beijing"), ("capital of China", "Bananas are yellow"),
             ("what is rerankd?", "a local reranking service " * 20)]
    scores = {}
    for flags in (AVX2_ONLY, AVX512):
        monkeypatch.setattr(hardware, "cpu_feature_flags", lambda flags=flags: flags)
        reranker = Reranker(str(tiny_model_dir), max_length=256, dtype="float32")
        kernel = reranker.backend.decoder.kernel
        scores[kernel] = reranker.score(pairs)
    assert set(scores) == {"aten", "onednn"}
    assert scores["onednn"] == pytest.approx(scores["aten"], abs=1e-5)


@pytest.mark.parametrize(
    ("flags", "levels"), [(AVX2_ONLY, 63), (AVX512, 63), (AVX512_BF16, 127), (AMX, 127)],
    ids=["avx2-only", "avx512", "avx512-vnni", "amx"],
)
def test_int8_activations_keep_clear_of_16_bit_saturation(flags, levels):
    """8-bit activations only where VNNI/AMX sum int8 products in 32 bits; 7 bits elsewhere,
    where oneDNN's 16-bit pair sums would saturate."""
    assert int8_activation_levels(flags) == levels

"""What the machine can do, and the device and dtype that follow from it.

``--dtype auto`` is bf16 where bf16 arithmetic is native (CUDA; CPUs with AVX512_BF16 or
AMX, where a bf16 matmul runs about 4x an fp32 one) and fp32 elsewhere: on an AVX2-only
CPU bf16 is emulated and several times slower than fp32. Scores are fp32 either way.
"""

from __future__ import annotations

import ctypes
import functools
from pathlib import Path

import torch

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
DTYPE_ALIASES = {"fp32": "float32", "bf16": "bfloat16", "fp16": "float16", "half": "float16"}
NATIVE_BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})


def resolve_device(device: str | None) -> torch.device:
    if device in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def resolve_dtype(
    dtype: str | None, device: torch.device, cpu_flags: frozenset[str] | None = None
) -> torch.dtype:
    """The named dtype, or for ``auto`` the one the hardware runs fastest at equal care:
    bf16 on CUDA and on CPUs with native bf16, fp32 elsewhere."""
    if dtype in (None, "auto"):
        if device.type == "cuda" or (
            device.type == "cpu" and native_bf16(cpu_flags if cpu_flags is not None
                                                 else cpu_feature_flags())
        ):
            return torch.bfloat16
        return torch.float32
    name = DTYPE_ALIASES.get(dtype, dtype)
    if name not in DTYPES:
        raise ValueError(f"unknown dtype {dtype!r}; choose from auto, {', '.join(DTYPES)}")
    return DTYPES[name]


def native_bf16(flags: frozenset[str]) -> bool:
    return bool(flags & NATIVE_BF16_FLAGS)


def cpu_linear_kernel(dtype: torch.dtype, flags: frozenset[str] | None = None) -> str:
    """The GEMM a CPU runs a precision's linear layers on: ``onednn`` (weights prepacked
    once) or ``aten`` (MKL).

    oneDNN where its kernels are the fast ones: fp32 on AVX-512 CPUs (on AMD's, MKL's fp32
    GEMM reaches under half of oneDNN's, 187-220 against 484 GFLOP/s on 2 cores), and
    16-bit wherever oneDNN has kernels for it (bf16 from AVX512-BW/VL/DQ or AVX-NE-CONVERT
    up, native with AVX512_BF16 or AMX; fp16 with AVX512-FP16 or AMX-FP16), as oneDNN's
    own detection says. MKL for fp32 on AVX2-only CPUs, where it is the faster of the two,
    and for 16-bit where oneDNN has no kernel (emulated and slow: ``--dtype auto`` never
    picks 16 bits there).
    """
    if dtype == torch.float32:
        flags = flags if flags is not None else cpu_feature_flags()
        return "onednn" if "avx512f" in flags else "aten"
    return "onednn" if onednn_has_kernels(dtype) else "aten"


def onednn_has_kernels(dtype: torch.dtype) -> bool:
    """Whether oneDNN can run 16-bit GEMMs of ``dtype`` on this CPU (its own detection)."""
    if dtype == torch.bfloat16:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    if dtype == torch.float16:
        return bool(torch.ops.mkldnn._is_mkldnn_fp16_supported())
    return False


@functools.cache
def cpu_feature_flags() -> frozenset[str]:
    """The CPU's feature flags, from /proc/cpuinfo (Linux); elsewhere, what torch reports."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return frozenset(line.partition(":")[2].split())
    except OSError:
        pass
    capabilities = getattr(torch.cpu, "get_capabilities", None)
    if capabilities is None:
        return frozenset()
    return frozenset(name for name, present in capabilities().items() if present is True)


def int8_activation_levels(flags: frozenset[str] | None = None) -> int:
    """How finely int8 activations are quantized: symmetric 8 bits (±127) where the CPU
    multiplies int8 in 32-bit sums (VNNI, AMX-INT8), 7 bits (±63) elsewhere. Without VNNI,
    oneDNN sums pairs of uint8 x int8 products in 16 bits, which saturate at 8 bits and
    scramble rankings (Spearman 0.965 against fp32 on an AVX2 CPU; 0.993 at 7 bits)."""
    flags = flags if flags is not None else cpu_feature_flags()
    return 127 if flags & {"avx512_vnni", "avx_vnni", "amx_int8"} else 63


@functools.cache
def tune_allocator() -> bool:
    """glibc's malloc returns the large temporaries of every batch (tens of MB) to the
    system and maps them again on the next, a page fault per 4 KB: about 20% of a bf16
    batch's time. Keeping them mapped (as PyTorch's own CPU advice does with
    MALLOC_MMAP_THRESHOLD_) costs memory the batch budget already bounds."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False  # not glibc
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    m_trim_threshold, m_mmap_threshold, m_arena_max = -1, -3, -8
    return bool(
        mallopt(m_mmap_threshold, 32 * 1024 * 1024)  # glibc's largest allowed
        and mallopt(m_trim_threshold, 2**31 - 1)  # the largest an int holds
        # One arena: the model runs on a worker thread, whose own arena would hand its
        # memory back after every batch (twice the page faults, 10-20% of a batch).
        and mallopt(m_arena_max, 1)
    )


def dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")

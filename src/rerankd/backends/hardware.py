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


@functools.cache
def tune_allocator() -> bool:
    """glibc's malloc returns the large temporaries of every batch (tens of MB) to the
    system and maps them again on the next: about 20% of a bf16 batch's time. Keeping
    them mapped (as PyTorch's own CPU advice does with MALLOC_MMAP_THRESHOLD_) costs
    memory the batch budget already bounds."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False  # not glibc
    m_trim_threshold, m_mmap_threshold = -1, -3
    return bool(
        mallopt(m_mmap_threshold, 32 * 1024 * 1024)  # glibc's largest allowed
        and mallopt(m_trim_threshold, 16 * 1024**3)
    )


def dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")

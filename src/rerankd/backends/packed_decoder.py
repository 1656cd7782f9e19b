"""A packed, variable-length Qwen3 decoder forward for scoring, over a loaded model's weights.

Scoring needs one hidden state per prompt (its last token's), so the decoder runs as:
- the shared prefix (system prompt, instruction, query) once, its keys and values (after
  k_norm and RoPE) kept per layer;
- every document's tokens of a batch concatenated into one ``[tokens, hidden]`` tensor, no
  padding: each GEMM does only real work, and positions continue after each document's
  own prefix, exactly as if each prompt ran whole;
- attention per document: its queries attend to its prefix's keys and values and to its
  own earlier tokens (a causal mask aligned bottom-right). Inputs are 4-D: torch's CPU
  SDPA takes its flash kernel only so (3-D inputs fall back to the slow "math" path);
  grouped-query attention is native there (``enable_gqa``: no repeated keys);
- the last layer for each document's last token only: keys and values for every token
  (that token attends to them all), the query, attention, output projection, MLP and
  final norm for the last token alone.

q/k/v are one fused GEMM, and so are gate/up (or, with oneDNN, gate with a SiLU post-op
and up with a multiply post-op). The element-wise steps between GEMMs are four small
functions, compiled each into one loop where a C compiler is at hand (torch.compile),
else run as they are.

Precision: GEMM inputs and attention run in the model dtype (bf16: AMX on Sapphire Rapids
and later, AVX512_BF16 on Zen 4/5); the residual stream, the norms, RoPE and the score
stay fp32, which keeps bf16 within about 3e-3 of the fp32 recipe (a bf16 residual stream
doubles that). ``int8``: per-channel int8 weights and per-token int8 activations on
oneDNN's int8 GEMM (VNNI/AMX-int8 where the CPU has them; 7-bit activations elsewhere),
but for the MLP's down projection, which stays fp32.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from rerankd.backends.hardware import cpu_linear_kernel, int8_activation_levels

logger = logging.getLogger(__name__)

PrefixKV = list[tuple[torch.Tensor, torch.Tensor]]  # per layer: keys, values [P, kv_heads, d]


# --- linear layers: one kernel per precision and device --------------------------------

def _quantize_per_token(x: torch.Tensor, levels: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Symmetric per row in [-levels, levels], stored as uint8 + levels + 1 as oneDNN takes
    it; and the scales."""
    x = x.float()
    scale = x.abs().amax(dim=1, keepdim=True).clamp_min(1e-12) / levels
    return (torch.round(x / scale) + float(levels + 1)).to(torch.uint8), scale


class Linear:
    """``x @ W.T`` (W is [out, in]) with the kernel that suits the precision and device:
    ``aten`` (MKL on CPU, cuBLAS on CUDA), ``onednn`` (weights prepacked once) or ``int8``
    (oneDNN's int8 GEMM)."""

    def __init__(self, weight: torch.Tensor, dtype: torch.dtype, kernel: str) -> None:
        self.kernel = kernel
        weight = weight.detach()
        if kernel == "aten":
            self.weight = weight.to(dtype).contiguous()
        elif kernel == "onednn":
            self.weight = torch.ops.mkldnn._reorder_linear_weight(
                weight.to(dtype).contiguous(), None
            )
        elif kernel == "int8":
            weight = weight.float()
            scale = weight.abs().amax(dim=1, keepdim=True).clamp_min(1e-12) / 127.0
            self.weight = torch.ops.onednn.qlinear_prepack(
                torch.round(weight / scale).to(torch.int8), None
            )
            self.weight_scale = scale.squeeze(1).contiguous()
            self.weight_zero = torch.zeros(weight.shape[0], dtype=torch.int64)
            self.activation_levels = int8_activation_levels()
        else:
            raise ValueError(f"unknown linear kernel {kernel!r}")

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if self.kernel == "aten":
            return F.linear(x, self.weight)
        if self.kernel == "onednn":
            return torch.ops.mkldnn._linear_pointwise(x, self.weight, None, "none", [], "")
        quantized, scale = _quantize_per_token(x, self.activation_levels)
        y = torch.ops.onednn.qlinear_pointwise(
            quantized, 1.0, self.activation_levels + 1, self.weight, self.weight_scale,
            self.weight_zero, None, 1.0, 0, torch.float32, "none", [], "",
        )
        return y.mul_(scale)

    def silu(self, x: torch.Tensor) -> torch.Tensor:
        """silu(x @ W.T), the SiLU applied in the GEMM's epilogue (oneDNN only)."""
        return torch.ops.mkldnn._linear_pointwise(x, self.weight, None, "swish", [], "")

    def times(self, x: torch.Tensor, other: torch.Tensor) -> torch.Tensor:
        """(x @ W.T) * other, the product in the GEMM's epilogue (oneDNN only)."""
        return torch.ops.mkldnn._linear_pointwise.binary(x, other, self.weight, None, "mul")


def linear_kernel(device: torch.device, dtype: torch.dtype, quantize: str | None) -> str:
    """``int8`` when asked; on CPU the GEMM the CPU runs fastest at ``dtype`` (see
    ``cpu_linear_kernel``); cuBLAS (``aten``) on CUDA."""
    if quantize == "int8":
        if device.type != "cpu":
            raise ValueError("int8 runs on CPU; on a GPU use --dtype bfloat16, or the vllm "
                             "backend's quantizations")
        return "int8"
    if quantize is not None:
        raise ValueError(f"unknown quantization {quantize!r}; choose int8")
    if device.type == "cpu":
        return cpu_linear_kernel(dtype)
    return "aten"


# --- the element-wise steps between GEMMs (fused where a compiler is at hand) -------------

def norm_cast(
    x: torch.Tensor, weight: torch.Tensor, eps: float, dtype: torch.dtype
) -> torch.Tensor:
    """RMSNorm in fp32 (as Qwen3RMSNorm), cast to the GEMM input dtype."""
    x = x.float()
    return (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * weight).to(dtype)


def add_norm(
    x: torch.Tensor, y: torch.Tensor, weight: torch.Tensor, eps: float, dtype: torch.dtype
) -> tuple[torch.Tensor, torch.Tensor]:
    """The residual add in fp32, in place (``x`` is the forward's own residual stream), and
    the next RMSNorm of the sum: (residual, GEMM input)."""
    x.add_(y)
    return x, norm_cast(x, weight, eps, dtype)


def silu_mul(gate_up: torch.Tensor) -> torch.Tensor:
    """SiLU(gate) * up on a fused [gate | up] GEMM output."""
    half = gate_up.shape[-1] // 2
    return F.silu(gate_up[:, :half]) * gate_up[:, half:]


def _rope(t: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    half = t.shape[-1] // 2
    return t * cos + torch.cat((-t[..., half:], t[..., :half]), dim=-1) * sin


def _head_norm(t: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    t = t.float()
    return t * torch.rsqrt(t.pow(2).mean(-1, keepdim=True) + eps) * weight


def qkv_norm_rope(
    qkv: torch.Tensor, q_weight: torch.Tensor, k_weight: torch.Tensor, cos: torch.Tensor,
    sin: torch.Tensor, eps: float, q_heads: int, kv_heads: int, dtype: torch.dtype,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A fused [q | k | v] output split; per-head RMSNorm and RoPE in fp32 on q and k;
    q [T, q_heads, d], k and v [T, kv_heads, d] in the attention dtype."""
    q_end = q_heads * cos.shape[-1]
    q = q_norm_rope(qkv[:, :q_end], q_weight, cos, sin, eps, q_heads, dtype)
    k, v = kv_norm_rope(qkv[:, q_end:], k_weight, cos, sin, eps, kv_heads, dtype)
    return q, k, v


def q_norm_rope(
    q: torch.Tensor, weight: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, eps: float,
    heads: int, dtype: torch.dtype,
) -> torch.Tensor:
    q = q.reshape(q.shape[0], heads, cos.shape[-1])
    return _rope(_head_norm(q, weight, eps), cos, sin).to(dtype)


def kv_norm_rope(
    kv: torch.Tensor, weight: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, eps: float,
    heads: int, dtype: torch.dtype,
) -> tuple[torch.Tensor, torch.Tensor]:
    """A fused [k | v] output: k normed and rotated, v as it is."""
    k_end = heads * cos.shape[-1]
    k = kv[:, :k_end].reshape(kv.shape[0], heads, cos.shape[-1])
    v = kv[:, k_end:].reshape(kv.shape[0], heads, cos.shape[-1])
    return _rope(_head_norm(k, weight, eps), cos, sin).to(dtype), v.to(dtype)


class Fused:
    """A step compiled into one loop by torch.compile (inductor, dynamic shapes), or run as
    it is where that cannot be had (no C compiler; a compile error): scores are the same
    either way, only slower."""

    failed = False  # one failure turns compiling off for the process
    # A step compiles once per model shape and dtype; a process that loads several models
    # (tests, benchmarks) needs more than dynamo's default of 8 before it stops compiling.
    RECOMPILE_LIMIT = 32

    def __init__(self, step: Callable[..., Any], compile_steps: bool) -> None:
        self.step = step
        self.compiled: Callable[..., Any] | None = None
        if compile_steps and not Fused.failed:
            import torch._dynamo

            config = torch._dynamo.config
            config.recompile_limit = max(config.recompile_limit, self.RECOMPILE_LIMIT)
            self.compiled = torch.compile(step, dynamic=True)

    def __call__(self, *args: Any) -> Any:
        if self.compiled is not None:
            try:
                return self.compiled(*args)
            except Exception as error:  # a compiler problem, never the inputs'
                if not Fused.failed:
                    logger.warning("torch.compile failed (%s); running the element-wise "
                                   "steps uncompiled", str(error).splitlines()[0][:200])
                Fused.failed = True
                self.compiled = None
        return self.step(*args)


def can_compile(device: torch.device) -> bool:
    """Inductor writes C++ for the CPU: it needs a compiler (CUDA: not used here)."""
    return device.type == "cpu" and shutil.which("g++") is not None


@dataclass
class Layer:
    input_norm: torch.Tensor  # fp32 weights of the norms
    qkv: Linear  # [q; k; v]
    q_norm: torch.Tensor
    k_norm: torch.Tensor
    o: Linear
    post_norm: torch.Tensor
    gate_up: Linear | None  # [gate; up]; None where gate and up carry post-ops
    down: Linear
    gate: Linear | None = None
    up: Linear | None = None


@dataclass(frozen=True)
class Document:
    """One prompt's document side, after its prefix's keys and values."""

    prefix: PrefixKV
    ids: Sequence[int]


class PackedDecoder:
    """Qwen3's decoder body, from a transformers ``Qwen3Model``, for last-token states."""

    def __init__(
        self, body: Any, dtype: torch.dtype, device: torch.device, *,
        quantize: str | None = None, compile_steps: bool = True,
    ) -> None:
        config = body.config
        self.device = device
        self.kernel = linear_kernel(device, dtype, quantize)
        self.dtype = torch.float32 if self.kernel == "int8" else dtype  # GEMM inputs
        self.attention_dtype = dtype
        self.q_heads = config.num_attention_heads
        self.kv_heads = config.num_key_value_heads
        self.head_dim = getattr(config, "head_dim", None) or config.hidden_size // self.q_heads
        self.eps = config.rms_norm_eps
        rope = getattr(config, "rope_parameters", None) or getattr(config, "rope_scaling", None)
        if rope and rope.get("rope_type", "default") != "default":
            raise ValueError(f"RoPE scaling {rope.get('rope_type')!r} is not supported")
        theta = (rope or {}).get("rope_theta") or getattr(config, "rope_theta", 1e6)
        self.inv_freq = 1.0 / (theta ** (
            torch.arange(0, self.head_dim, 2, dtype=torch.float32, device=device)
            / self.head_dim
        ))
        self.embed = body.embed_tokens.weight.detach().to(device)
        self.final_norm = body.norm.weight.detach().float().to(device)
        self.post_ops = self.kernel == "onednn"
        self.layers = [self._layer(layer) for layer in body.layers]
        last = body.layers[-1].self_attn
        self.last_q = self._linear(last.q_proj.weight)
        self.last_kv = self._linear(torch.cat([last.k_proj.weight, last.v_proj.weight]))
        compile_steps = compile_steps and can_compile(device)
        self.norm_cast = Fused(norm_cast, compile_steps)
        self.add_norm = Fused(add_norm, compile_steps)
        self.silu_mul = Fused(silu_mul, compile_steps)
        self.qkv_norm_rope = Fused(qkv_norm_rope, compile_steps)
        self.q_norm_rope = Fused(q_norm_rope, compile_steps)
        self.kv_norm_rope = Fused(kv_norm_rope, compile_steps)

    def _linear(self, weight: torch.Tensor) -> Linear:
        return Linear(weight.to(self.device), self.dtype, self.kernel)

    def _down_linear(self, weight: torch.Tensor) -> Linear:
        """The MLP's down projection. Under int8 it stays in full precision: its input,
        SiLU(gate) * up, carries outliers that per-token int8 cannot hold (on the 0.6B
        shape: Spearman 0.972 -> 0.986 against fp32, max |diff| 0.029 -> 0.019, at the
        same speed on an AVX2 CPU)."""
        if self.kernel != "int8":
            return self._linear(weight)
        return Linear(weight.to(self.device), torch.float32, cpu_linear_kernel(torch.float32))

    def _layer(self, layer: Any) -> Layer:
        attention, mlp = layer.self_attn, layer.mlp
        return Layer(
            input_norm=layer.input_layernorm.weight.detach().float().to(self.device),
            qkv=self._linear(torch.cat([
                attention.q_proj.weight, attention.k_proj.weight, attention.v_proj.weight,
            ])),
            q_norm=attention.q_norm.weight.detach().float().to(self.device),
            k_norm=attention.k_norm.weight.detach().float().to(self.device),
            o=self._linear(attention.o_proj.weight),
            post_norm=layer.post_attention_layernorm.weight.detach().float().to(self.device),
            gate_up=None if self.post_ops else self._linear(
                torch.cat([mlp.gate_proj.weight, mlp.up_proj.weight])
            ),
            down=self._down_linear(mlp.down_proj.weight),
            gate=self._linear(mlp.gate_proj.weight) if self.post_ops else None,
            up=self._linear(mlp.up_proj.weight) if self.post_ops else None,
        )

    def _mlp(self, h: torch.Tensor, layer: Layer) -> torch.Tensor:
        if layer.gate is not None and layer.up is not None:
            activated: torch.Tensor = layer.up.times(h, layer.gate.silu(h))
        else:
            assert layer.gate_up is not None
            activated = self.silu_mul(layer.gate_up(h))
        return layer.down(activated)

    def _cos_sin(self, positions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        freqs = positions[:, None].float() * self.inv_freq
        angles = torch.cat((freqs, freqs), dim=-1)
        return angles.cos()[:, None, :], angles.sin()[:, None, :]

    def _ids(self, ids: Sequence[int]) -> torch.Tensor:
        return torch.as_tensor(list(ids), dtype=torch.long).to(self.device)

    @torch.inference_mode()
    def prefix(self, ids: Sequence[int]) -> PrefixKV:
        """The keys and values of a shared prefix at every layer."""
        if not ids:
            empty = torch.empty(0, self.kv_heads, self.head_dim, dtype=self.attention_dtype,
                                device=self.device)
            return [(empty, empty)] * len(self.layers)
        length = len(ids)
        x = self.embed[self._ids(ids)].float()
        cos, sin = self._cos_sin(torch.arange(length, device=self.device))
        h = self.norm_cast(x, self.layers[0].input_norm, self.eps, self.dtype)
        kept: PrefixKV = []
        for index, layer in enumerate(self.layers):
            if index == len(self.layers) - 1:  # only its keys and values are ever read
                kept.append(self.kv_norm_rope(self.last_kv(h), layer.k_norm, cos, sin,
                                              self.eps, self.kv_heads, self.attention_dtype))
                break
            q, k, v = self.qkv_norm_rope(layer.qkv(h), layer.q_norm, layer.k_norm, cos, sin,
                                         self.eps, self.q_heads, self.kv_heads,
                                         self.attention_dtype)
            kept.append((k, v))
            attended = F.scaled_dot_product_attention(
                q.transpose(0, 1)[None], k.transpose(0, 1)[None], v.transpose(0, 1)[None],
                is_causal=True, enable_gqa=True,
            )[0].transpose(0, 1)
            x, h = self.add_norm(x, layer.o(attended.reshape(length, -1).to(self.dtype)),
                                 layer.post_norm, self.eps, self.dtype)
            x, h = self.add_norm(x, self._mlp(h, layer), self.layers[index + 1].input_norm,
                                 self.eps, self.dtype)
        return kept

    @torch.inference_mode()
    def last_states(self, documents: Sequence[Document]) -> torch.Tensor:
        """The final-norm hidden state of each document's last token, [documents, hidden]
        in fp32. Each document continues after its own prefix."""
        lengths = [len(document.ids) for document in documents]
        starts = [0]
        for length in lengths:
            starts.append(starts[-1] + length)
        tokens = starts[-1]
        prefix_lengths = [document.prefix[0][0].shape[0] for document in documents]
        x = self.embed[self._ids([t for document in documents for t in document.ids])].float()
        cos, sin = self._cos_sin(torch.cat([
            torch.arange(p, p + n, device=self.device)
            for p, n in zip(prefix_lengths, lengths, strict=True)
        ]))
        last_rows = torch.as_tensor(starts[1:], device=self.device) - 1
        masks = {  # bottom-right aligned causal masks, [1, 1, n, p + n]
            (p, n): torch.ones(n, p + n, dtype=torch.bool, device=self.device).tril(p)[None, None]
            for p, n in zip(prefix_lengths, lengths, strict=True)
        }
        h = self.norm_cast(x, self.layers[0].input_norm, self.eps, self.dtype)
        for index, layer in enumerate(self.layers):
            final = index == len(self.layers) - 1
            if final:
                k, v = self.kv_norm_rope(self.last_kv(h), layer.k_norm, cos, sin, self.eps,
                                         self.kv_heads, self.attention_dtype)
                q = self.q_norm_rope(self.last_q(h[last_rows]), layer.q_norm, cos[last_rows],
                                     sin[last_rows], self.eps, self.q_heads,
                                     self.attention_dtype)
            else:
                q, k, v = self.qkv_norm_rope(layer.qkv(h), layer.q_norm, layer.k_norm, cos, sin,
                                             self.eps, self.q_heads, self.kv_heads,
                                             self.attention_dtype)
            attended = torch.empty(len(documents) if final else tokens, self.q_heads,
                                   self.head_dim, dtype=self.attention_dtype,
                                   device=self.device)
            for row, (document, start, length) in enumerate(
                zip(documents, starts[:-1], lengths, strict=True)
            ):
                prefix_k, prefix_v = document.prefix[index]
                keys = torch.cat([prefix_k, k[start : start + length]]).transpose(0, 1)[None]
                values = torch.cat([prefix_v, v[start : start + length]]).transpose(0, 1)[None]
                if final:  # the last token sees every key: no mask
                    attended[row] = F.scaled_dot_product_attention(
                        q[row : row + 1].transpose(0, 1)[None], keys, values, enable_gqa=True,
                    )[0, :, 0]
                else:
                    attended[start : start + length] = F.scaled_dot_product_attention(
                        q[start : start + length].transpose(0, 1)[None], keys, values,
                        attn_mask=masks[(prefix_lengths[row], length)], enable_gqa=True,
                    )[0].transpose(0, 1)
            out = layer.o(attended.reshape(attended.shape[0], -1).to(self.dtype))
            if final:
                x = x[last_rows]
            x, h = self.add_norm(x, out, layer.post_norm, self.eps, self.dtype)
            after = self.final_norm if final else self.layers[index + 1].input_norm
            x, h = self.add_norm(x, self._mlp(h, layer), after, self.eps,
                                 torch.float32 if final else self.dtype)
        return h

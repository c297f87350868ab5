#!/usr/bin/env python3
"""The peer's model and inner optimiser in PyTorch eager (issue #20): the yardstick of `npm run bench:gpu`.

The same LLaMA-style causal LM as src/model (layout: src/model/params.ts; forward: the float64
reference src/model/reference.ts), with the same parameter tensors in the same flat order and the
same input-major storage (`x @ W`, where Hugging Face stores W transposed), and the same inner
optimiser as src/core/adamw.ts and src/core/inner-lr.ts: torch.optim.AdamW with decoupled weight
decay over every tensor, global-norm clipping (clip_grad_norm_), and the linear warm-up then cosine
learning rate in closed form (past the cosine it stays at eta_min, as ours does).

Usage: python3 torch-reference.py REQUEST.json OUT.json

The request's `mode`:
- "check": `dir` holds theta.f32 (the flat float32 θ), inputs.i32 and targets.i32 (steps × batch ×
  seqLen int32); runs `steps` inner steps on `device` (default cpu) and writes the loss of each step
  before its update, so a test can hold the two implementations to the same numbers.
- "bench": for each preset, a random θ (the run's init: matrices N(0, initStd²), norm gains 1) and
  random bytes as tokens on `device` (default cuda), `warmup` untimed steps then `steps` timed ones;
  writes tokens/s per preset with the device's name. float32 throughout, as our engine trains; the
  TF32 setting is reported because it changes what a float32 matmul means on NVIDIA.

Only the standard library and torch: it runs where a GPU machine has PyTorch and nothing else.
"""
import json
import math
import os
import sys
import time

import torch
import torch.nn.functional as F

WARMUP_START_FACTOR = 1e-6  # src/core/inner-lr.ts: LinearLR's start factor in Templar v2.1.3


def parameter_layout(model):
    """(name, shape, init) in the fixed order of src/model/params.ts."""
    v, d, f = model["vocabSize"], model["dModel"], model["dFF"]
    specs = [("model.embed_tokens.weight", (v, d), "normal")]
    if model["positional"] == "learned":
        specs.append(("model.embed_positions.weight", (model["seqLen"], d), "normal"))
    for i in range(model["nLayers"]):
        p = f"model.layers.{i}"
        specs.append((f"{p}.input_layernorm.weight", (d,), "ones"))
        for proj in ("q", "k", "v", "o"):
            specs.append((f"{p}.self_attn.{proj}_proj.weight", (d, d), "normal"))
        specs.append((f"{p}.post_attention_layernorm.weight", (d,), "ones"))
        if model["activation"] == "swiglu":
            specs.append((f"{p}.mlp.gate_proj.weight", (d, f), "normal"))
        specs.append((f"{p}.mlp.up_proj.weight", (d, f), "normal"))
        specs.append((f"{p}.mlp.down_proj.weight", (f, d), "normal"))
    specs.append(("model.norm.weight", (d,), "ones"))
    if not model["tiedEmbeddings"]:
        specs.append(("lm_head.weight", (d, v), "normal"))
    return specs


def inner_learning_rate(inner, scheduler_steps):
    """src/core/inner-lr.ts innerLearningRate."""
    lr = inner["lr"]
    if scheduler_steps < inner["warmupSteps"]:
        return lr * (WARMUP_START_FACTOR + (1 - WARMUP_START_FACTOR) * scheduler_steps / inner["warmupSteps"])
    eta_min = inner["minLrRatio"] * lr
    if inner["cosineSteps"] <= 0:
        return lr
    progress = min(1.0, (scheduler_steps - inner["warmupSteps"]) / inner["cosineSteps"])
    return eta_min + (lr - eta_min) * (1 + math.cos(math.pi * progress)) / 2


class Model:
    """The forward pass over a dict of parameter tensors, as src/model/reference.ts computes it."""

    def __init__(self, model, params, device):
        self.m = model
        self.p = params
        hd = model["dModel"] // model["nHeads"]
        self.hd = hd
        if model["positional"] == "rope":
            half = hd // 2
            inv = torch.pow(torch.tensor(10000.0, dtype=torch.float64), -2 * torch.arange(half, dtype=torch.float64) / hd)
            angles = torch.arange(model["seqLen"], dtype=torch.float64)[:, None] * inv[None, :]
            self.cos = angles.cos().to(torch.float32).to(device)
            self.sin = angles.sin().to(torch.float32).to(device)
        self.sdpa = getattr(F, "scaled_dot_product_attention", None)

    def rms_norm(self, x, weight):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.m["normEps"]) * weight

    def rope(self, x):
        half = self.hd // 2
        x1, x2 = x[..., :half], x[..., half:]
        return torch.cat((x1 * self.cos - x2 * self.sin, x2 * self.cos + x1 * self.sin), dim=-1)

    def attention(self, q, k, v):
        if self.sdpa is not None:
            return self.sdpa(q, k, v, is_causal=True)
        t = q.shape[-2]
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(self.hd)
        mask = torch.ones(t, t, dtype=torch.bool, device=q.device).triu(1)
        return scores.masked_fill(mask, float("-inf")).softmax(-1) @ v

    def loss(self, inputs, targets):
        m, p = self.m, self.p
        b, t = inputs.shape
        nh, hd = m["nHeads"], self.hd
        x = p["model.embed_tokens.weight"][inputs]
        if m["positional"] == "learned":
            x = x + p["model.embed_positions.weight"][:t]
        for i in range(m["nLayers"]):
            pre = f"model.layers.{i}"
            h = self.rms_norm(x, p[f"{pre}.input_layernorm.weight"])
            heads = lambda w: (h @ p[f"{pre}.self_attn.{w}_proj.weight"]).view(b, t, nh, hd).transpose(1, 2)
            q, k, v = heads("q"), heads("k"), heads("v")
            if m["positional"] == "rope":
                q, k = self.rope(q), self.rope(k)
            a = self.attention(q, k, v).transpose(1, 2).reshape(b, t, nh * hd)
            x = x + a @ p[f"{pre}.self_attn.o_proj.weight"]
            h2 = self.rms_norm(x, p[f"{pre}.post_attention_layernorm.weight"])
            up = h2 @ p[f"{pre}.mlp.up_proj.weight"]
            if m["activation"] == "swiglu":
                hidden = F.silu(h2 @ p[f"{pre}.mlp.gate_proj.weight"]) * up
            else:
                hidden = F.gelu(up)
            x = x + hidden @ p[f"{pre}.mlp.down_proj.weight"]
        h = self.rms_norm(x, p["model.norm.weight"])
        logits = h @ (p["model.embed_tokens.weight"].t() if m["tiedEmbeddings"] else p["lm_head.weight"])
        return F.cross_entropy(logits.reshape(b * t, -1), targets.reshape(b * t))


def split_theta(model, theta, device):
    params, offset = {}, 0
    for name, shape, _ in parameter_layout(model):
        size = math.prod(shape)
        params[name] = theta[offset : offset + size].reshape(shape).clone().to(device).requires_grad_(True)
        offset += size
    if offset != theta.numel():
        raise ValueError(f"theta has {theta.numel()} elements, the model needs {offset}")
    return params


def random_theta(model, device, generator):
    params = {}
    for name, shape, init in parameter_layout(model):
        if init == "ones":
            tensor = torch.ones(shape, device=device)
        else:
            tensor = torch.randn(shape, device=device, generator=generator) * model["initStd"]
        params[name] = tensor.requires_grad_(True)
    return params


def make_optimiser(params, inner):
    return torch.optim.AdamW(
        list(params.values()), lr=inner["lr"], betas=(inner["beta1"], inner["beta2"]), eps=inner["eps"], weight_decay=inner["weightDecay"]
    )


def inner_step(model, params, optimiser, inner, step, inputs, targets):
    """One inner step as the engine takes it: loss, backward, clip, scheduled lr, AdamW. Returns the loss before the update."""
    optimiser.zero_grad(set_to_none=True)
    loss = model.loss(inputs, targets)
    loss.backward()
    if inner["gradClipNorm"] > 0:
        torch.nn.utils.clip_grad_norm_(list(params.values()), inner["gradClipNorm"])
    for group in optimiser.param_groups:
        group["lr"] = inner_learning_rate(inner, step)
    optimiser.step()
    return loss


def read_tensor(path, dtype):
    with open(path, "rb") as f:
        return torch.frombuffer(bytearray(f.read()), dtype=dtype)


def check(request):
    device = torch.device(request.get("device", "cpu"))
    model, inner = request["model"], request["inner"]
    steps, batch, seq = request["steps"], request["batch"], model["seqLen"]
    folder = request["dir"]
    params = split_theta(model, read_tensor(os.path.join(folder, "theta.f32"), torch.float32), device)
    inputs = read_tensor(os.path.join(folder, "inputs.i32"), torch.int32).long().reshape(steps, batch, seq).to(device)
    targets = read_tensor(os.path.join(folder, "targets.i32"), torch.int32).long().reshape(steps, batch, seq).to(device)
    net = Model(model, params, device)
    optimiser = make_optimiser(params, inner)
    losses = [float(inner_step(net, params, optimiser, inner, s, inputs[s], targets[s])) for s in range(steps)]
    return {"mode": "check", "device": str(device), "torch": torch.__version__, "losses": losses}


def synchronise(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def bench(request):
    device = torch.device(request.get("device", "cuda"))
    generator = torch.Generator(device=device)
    generator.manual_seed(1234)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    results = []
    for preset in request["presets"]:
        model, inner = preset["model"], preset["inner"]
        batch, seq = inner["batchSize"], model["seqLen"]
        params = random_theta(model, device, generator)
        net = Model(model, params, device)
        optimiser = make_optimiser(params, inner)
        tokens = torch.randint(0, model["vocabSize"], (request["warmup"] + request["steps"], batch, seq + 1), device=device, generator=generator)
        for s in range(request["warmup"]):
            inner_step(net, params, optimiser, inner, s, tokens[s, :, :-1], tokens[s, :, 1:])
        synchronise(device)
        started = time.perf_counter()
        for s in range(request["warmup"], request["warmup"] + request["steps"]):
            inner_step(net, params, optimiser, inner, s, tokens[s, :, :-1], tokens[s, :, 1:])
        synchronise(device)
        seconds = time.perf_counter() - started
        results.append({"preset": preset["name"], "tokensPerSecond": request["steps"] * batch * seq / seconds, "seconds": seconds})
        del params, net, optimiser, tokens
        if device.type == "cuda":
            torch.cuda.empty_cache()
    return {
        "mode": "bench",
        "device": name,
        "torch": torch.__version__,
        "dtype": "float32",
        "tf32Matmul": bool(torch.backends.cuda.matmul.allow_tf32) if device.type == "cuda" else False,
        "attention": "scaled_dot_product_attention" if hasattr(F, "scaled_dot_product_attention") else "matmul + softmax",
        "results": results,
    }


def main(argv):
    if len(argv) != 3:
        print(__doc__.split("\n\n")[2], file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        request = json.load(f)
    torch.manual_seed(1234)
    result = check(request) if request["mode"] == "check" else bench(request)
    with open(argv[2], "w", encoding="utf-8") as f:
        json.dump(result, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

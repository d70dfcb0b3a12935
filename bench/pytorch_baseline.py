#!/usr/bin/python3
"""PyTorch reference for `unitrace bench`: the same Qwen2-style decoder, LoRA r16 on q,k,v,o (or full),
AdamW, random tokens; prints tokens/s as one JSON line. Run with Debian's python3-torch + libopenblas0-openmp:
  /usr/bin/python3 bench/pytorch_baseline.py --model-config bench/tiny.json --batch 8 --seq 256 --steps 5
"""
import argparse, json, math, time
import torch
import torch.nn as nn
import torch.nn.functional as F

p = argparse.ArgumentParser()
p.add_argument("--model-config", default="bench/tiny.json")
p.add_argument("--batch", type=int, default=8)
p.add_argument("--seq", type=int, default=256)
p.add_argument("--steps", type=int, default=5)
p.add_argument("--warmup", type=int, default=2)
p.add_argument("--mode", choices=["lora", "full"], default="lora")
p.add_argument("--threads", type=int, default=2)
args = p.parse_args()
torch.set_num_threads(args.threads)
torch.manual_seed(0)
cfg = json.load(open(args.model_config))
H, I, L = cfg["hidden_size"], cfg["intermediate_size"], cfg["num_hidden_layers"]
NH, NKV, V = cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["vocab_size"]
D = H // NH
EPS, THETA = cfg["rms_norm_eps"], cfg["rope_theta"]


class LoraLinear(nn.Module):
    def __init__(self, inp, out, bias, r):
        super().__init__()
        self.base = nn.Linear(inp, out, bias=bias)
        self.r = r
        if r:
            self.A = nn.Parameter(torch.empty(r, inp))
            nn.init.kaiming_uniform_(self.A, a=math.sqrt(5))
            self.B = nn.Parameter(torch.zeros(out, r))
            self.scale = 32 / r

    def forward(self, x):
        y = self.base(x)
        return y + (x @ self.A.t() @ self.B.t()) * self.scale if self.r else y


class RMSNorm(nn.Module):
    def __init__(self, h):
        super().__init__()
        self.w = nn.Parameter(torch.ones(h))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + EPS) * self.w


def rotate_half(x):
    a, b = x.chunk(2, dim=-1)
    return torch.cat((-b, a), dim=-1)


class Block(nn.Module):
    def __init__(self, r):
        super().__init__()
        self.n1, self.n2 = RMSNorm(H), RMSNorm(H)
        self.q = LoraLinear(H, NH * D, True, r)
        self.k = LoraLinear(H, NKV * D, True, r)
        self.v = LoraLinear(H, NKV * D, True, r)
        self.o = LoraLinear(NH * D, H, False, r)
        self.gate, self.up, self.down = nn.Linear(H, I, bias=False), nn.Linear(H, I, bias=False), nn.Linear(I, H, bias=False)

    def forward(self, x, cos, sin):
        b, t, _ = x.shape
        h = self.n1(x)
        q = self.q(h).view(b, t, NH, D).transpose(1, 2)
        k = self.k(h).view(b, t, NKV, D).transpose(1, 2)
        v = self.v(h).view(b, t, NKV, D).transpose(1, 2)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(NH // NKV, dim=1)
        v = v.repeat_interleave(NH // NKV, dim=1)
        att = (q @ k.transpose(-1, -2)) / math.sqrt(D)
        att = att.masked_fill(torch.triu(torch.ones(t, t, dtype=torch.bool), 1), float("-inf")).softmax(-1)
        x = x + self.o((att @ v).transpose(1, 2).reshape(b, t, NH * D))
        h = self.n2(x)
        return x + self.down(F.silu(self.gate(h)) * self.up(h))


class Model(nn.Module):
    def __init__(self, r):
        super().__init__()
        self.emb = nn.Embedding(V, H)
        self.blocks = nn.ModuleList(Block(r) for _ in range(L))
        self.norm = RMSNorm(H)

    def forward(self, ids):
        t = ids.shape[1]
        inv = 1.0 / THETA ** (torch.arange(0, D, 2).float() / D)
        f = torch.outer(torch.arange(t).float(), inv)
        emb = torch.cat((f, f), -1)
        cos, sin = emb.cos(), emb.sin()
        x = self.emb(ids)
        for blk in self.blocks:
            x = blk(x, cos, sin)
        return self.norm(x) @ self.emb.weight.t()


model = Model(16 if args.mode == "lora" else 0)
with torch.no_grad():  # Hugging Face's Qwen2 init: normal(0, 0.02) matrices, zero biases
    for n, prm in model.named_parameters():
        if n.endswith(".A") or n.endswith(".B") or n.endswith(".w"):
            continue
        if n.endswith("bias"):
            prm.zero_()
        else:
            prm.normal_(0, 0.02)
if args.mode == "lora":
    for n, prm in model.named_parameters():
        prm.requires_grad = n.endswith(".A") or n.endswith(".B")
params = [q for q in model.parameters() if q.requires_grad]
opt = torch.optim.AdamW(params, lr=1e-4)
ids = torch.randint(0, V, (args.batch, args.seq + 1))


def step():
    logits = model(ids[:, :-1])
    loss = F.cross_entropy(logits.reshape(-1, V), ids[:, 1:].reshape(-1))
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss.item()


for _ in range(args.warmup):
    step()
t0, c0 = time.perf_counter(), time.process_time()
for _ in range(args.steps):
    loss = step()
sec = (time.perf_counter() - t0) / args.steps
cpu = (time.process_time() - c0) / args.steps
tokens = args.batch * args.seq
print(json.dumps({"engine": "pytorch", "torch": torch.__version__, "threads": torch.get_num_threads(), "mode": args.mode,
                  "trainable": sum(q.numel() for q in params), "secondsPerStep": sec, "cpuSecondsPerStep": cpu, "tokensPerSecond": tokens / sec,
                  "tokensPerCpuSecond": tokens / cpu, "loss": loss}))

#!/usr/bin/python3
"""Golden logits for the Qwen2 parity tests (test/model/parity.test.ts).

An independent float64 NumPy implementation of the Qwen2 forward pass (pre-norm blocks, RMSNorm,
rotate-half RoPE, grouped-query causal attention, SwiGLU MLP, tied or untied lm_head) with PEFT-style
LoRA. Weights are not stored: both sides derive them from a counter hash (see `values`), rounded
through the case's storage dtype, so the goldens stay small and the TypeScript test writes the same
checkpoint itself and loads it through the real safetensors reader.

Run: /usr/bin/python3 scripts/golden_qwen2.py   (writes test/model/golden/qwen2-parity.json)
"""
import json
import os

import numpy as np

OUT = os.path.join(os.path.dirname(__file__), '..', 'test', 'model', 'golden', 'qwen2-parity.json')
MASK32 = 0xFFFFFFFF


def fnv1a(name):
    h = 2166136261
    for ch in name.encode('utf-8'):
        h = ((h ^ ch) * 16777619) & MASK32
    return h


def uniform(name, seed, n):
    """u_i in [-1, 1): murmur3's finalizer over (fnv1a(name) ^ seed) + i * golden-ratio, mod 2^32."""
    i = np.arange(n, dtype=np.uint64)
    h = (np.uint64((fnv1a(name) ^ seed) & MASK32) + i * np.uint64(0x9E3779B9)) & np.uint64(MASK32)
    h ^= h >> np.uint64(16)
    h = (h * np.uint64(0x85EBCA6B)) & np.uint64(MASK32)
    h ^= h >> np.uint64(13)
    h = (h * np.uint64(0xC2B2AE35)) & np.uint64(MASK32)
    h ^= h >> np.uint64(16)
    return h.astype(np.float64) / 4294967296.0 * 2.0 - 1.0


def values(name, shape, seed):
    """The value rule shared with test/model/golden-weights.ts (same float64 expression order)."""
    u = uniform(name, seed, int(np.prod(shape)))
    if name.endswith('norm.weight'):
        v = 1.0 + 0.1 * u
    elif name.endswith('.bias'):
        v = 0.1 * u
    elif name.endswith('lora_B.weight'):
        v = 0.5 * u / np.sqrt(shape[1])
    else:  # [out, in] matrices (embeddings and lm_head too) and lora_A
        v = u / np.sqrt(shape[1])
    return v.reshape(shape)


def bf16_round(x32):
    """float32 -> bfloat16 (round to nearest even) -> float64."""
    bits = x32.view(np.uint32).astype(np.uint64)
    rounded = ((bits + np.uint64(0x7FFF) + ((bits >> np.uint64(16)) & np.uint64(1))) >> np.uint64(16)) << np.uint64(16)
    return (rounded & np.uint64(MASK32)).astype(np.uint32).view(np.float32).astype(np.float64)


def stored(v, dtype):
    x32 = v.astype(np.float32)
    if dtype == 'F32':
        return x32.astype(np.float64)
    if dtype == 'F16':
        return x32.astype(np.float16).astype(np.float64)
    if dtype == 'BF16':
        return bf16_round(x32)
    raise ValueError(dtype)


def weight_shapes(c):
    H, I, D = c['hidden_size'], c['intermediate_size'], c['head_dim']
    q, kv = c['num_attention_heads'] * D, c['num_key_value_heads'] * D
    shapes = {'model.embed_tokens.weight': (c['vocab_size'], H)}
    for i in range(c['num_hidden_layers']):
        p = f'model.layers.{i}.'
        shapes.update({
            p + 'input_layernorm.weight': (H,),
            p + 'self_attn.q_proj.weight': (q, H), p + 'self_attn.q_proj.bias': (q,),
            p + 'self_attn.k_proj.weight': (kv, H), p + 'self_attn.k_proj.bias': (kv,),
            p + 'self_attn.v_proj.weight': (kv, H), p + 'self_attn.v_proj.bias': (kv,),
            p + 'self_attn.o_proj.weight': (H, q),
            p + 'post_attention_layernorm.weight': (H,),
            p + 'mlp.gate_proj.weight': (I, H), p + 'mlp.up_proj.weight': (I, H), p + 'mlp.down_proj.weight': (H, I),
        })
    shapes['model.norm.weight'] = (H,)
    if not c['tie_word_embeddings']:
        shapes['lm_head.weight'] = (c['vocab_size'], H)
    return shapes


def module_name(layer, module):
    block = 'self_attn' if module in ('q_proj', 'k_proj', 'v_proj', 'o_proj') else 'mlp'
    return f'model.layers.{layer}.{block}.{module}'


def lora_weights(c, lora, W, seed):
    out = {}
    r = lora['r']
    for i in range(c['num_hidden_layers']):
        for m in lora['targetModules']:
            base = module_name(i, m)
            o, n = W[base + '.weight'].shape
            ka, kb = f'base_model.model.{base}.lora_A.weight', f'base_model.model.{base}.lora_B.weight'
            out[base] = (stored(values(ka, (r, n), seed), 'F32'), stored(values(kb, (o, r), seed), 'F32'))
    return out


def forward(c, W, ids, lora=None, L=None):
    H, D = c['hidden_size'], c['head_dim']
    Hq, Hkv = c['num_attention_heads'], c['num_key_value_heads']
    eps, theta = c['rms_norm_eps'], c['rope_theta']
    B, T = ids.shape
    scaling = 0.0
    if lora:
        scaling = lora['alpha'] / (np.sqrt(lora['r']) if lora['rslora'] else lora['r'])

    def lin(x, base, bias=True):
        y = x @ W[base + '.weight'].T
        if bias:
            y = y + W[base + '.bias']
        if L and base in L:
            A, Bm = L[base]
            y = y + (x @ A.T @ Bm.T) * scaling
        return y

    def rms(x, w):
        return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w

    inv = 1.0 / theta ** (np.arange(0, D, 2, dtype=np.float64) / D)
    freqs = np.arange(T, dtype=np.float64)[:, None] * inv[None, :]
    emb = np.concatenate([freqs, freqs], axis=-1)  # [T, D]
    cos, sin = np.cos(emb), np.sin(emb)

    def rope(x):  # [B, h, T, D]
        x1, x2 = x[..., : D // 2], x[..., D // 2:]
        return x * cos + np.concatenate([-x2, x1], axis=-1) * sin

    mask = np.triu(np.full((T, T), -np.inf), k=1)
    x = W['model.embed_tokens.weight'][ids]  # [B, T, H]
    for i in range(c['num_hidden_layers']):
        p = f'model.layers.{i}.'
        h = rms(x, W[p + 'input_layernorm.weight'])
        q = lin(h, p + 'self_attn.q_proj').reshape(B, T, Hq, D).transpose(0, 2, 1, 3)
        k = lin(h, p + 'self_attn.k_proj').reshape(B, T, Hkv, D).transpose(0, 2, 1, 3)
        v = lin(h, p + 'self_attn.v_proj').reshape(B, T, Hkv, D).transpose(0, 2, 1, 3)
        q, k = rope(q), rope(k)
        g = Hq // Hkv
        k, v = np.repeat(k, g, axis=1), np.repeat(v, g, axis=1)  # query head j uses kv head j // g
        s = q @ k.transpose(0, 1, 3, 2) / np.sqrt(D) + mask
        s = np.exp(s - s.max(axis=-1, keepdims=True))
        a = (s / s.sum(axis=-1, keepdims=True)) @ v  # [B, Hq, T, D]
        x = x + lin(a.transpose(0, 2, 1, 3).reshape(B, T, Hq * D), p + 'self_attn.o_proj', bias=False)
        h = rms(x, W[p + 'post_attention_layernorm.weight'])
        gate = lin(h, p + 'mlp.gate_proj', bias=False)
        up = lin(h, p + 'mlp.up_proj', bias=False)
        x = x + lin(gate / (1.0 + np.exp(-gate)) * up, p + 'mlp.down_proj', bias=False)
    x = rms(x, W['model.norm.weight'])
    head = W['model.embed_tokens.weight'] if c['tie_word_embeddings'] else W['lm_head.weight']
    return x @ head.T


def hf_config(vocab, hidden, inter, layers, heads, kv, head_dim, theta, tied):
    return {
        'architectures': ['Qwen2ForCausalLM'], 'model_type': 'qwen2', 'hidden_act': 'silu',
        'vocab_size': vocab, 'hidden_size': hidden, 'intermediate_size': inter, 'num_hidden_layers': layers,
        'num_attention_heads': heads, 'num_key_value_heads': kv, 'head_dim': head_dim,
        'rms_norm_eps': 1e-6, 'rope_theta': theta, 'tie_word_embeddings': tied, 'max_position_embeddings': 32768,
    }


SMALL = dict(vocab=96, hidden=64, inter=160, layers=2, heads=4, kv=2, head_dim=16, theta=10000.0)
# Qwen2.5-0.5B's widths (896 / 4864 / 14 heads / 2 kv heads / head_dim 64 / theta 1e6), two layers, small vocab.
QWEN_WIDTH = dict(vocab=128, hidden=896, inter=4864, layers=2, heads=14, kv=2, head_dim=64, theta=1000000.0)
ALL7 = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj']
QKVO = ALL7[:4]

CASES = [
    ('small-untied-f32', SMALL, False, 'F32', None, 11),
    ('small-untied-f32-lora-all7', SMALL, False, 'F32', dict(r=4, alpha=8, rslora=False, targetModules=ALL7), 11),
    ('small-tied-f16-lora-rslora', SMALL, True, 'F16', dict(r=8, alpha=16, rslora=True, targetModules=QKVO), 12),
    ('qwen-width-tied-bf16', QWEN_WIDTH, True, 'BF16', None, 13),
    ('qwen-width-tied-bf16-lora', QWEN_WIDTH, True, 'BF16', dict(r=8, alpha=16, rslora=False, targetModules=QKVO), 13),
    ('qwen-width-untied-f32', QWEN_WIDTH, False, 'F32', None, 14),
]


def main():
    cases = []
    for name, shape, tied, dtype, lora, seed in CASES:
        c = hf_config(shape['vocab'], shape['hidden'], shape['inter'], shape['layers'], shape['heads'], shape['kv'],
                      shape['head_dim'], shape['theta'], tied)
        W = {n: stored(values(n, s, seed), dtype) for n, s in weight_shapes(c).items()}
        L = lora_weights(c, lora, W, seed) if lora else None
        rng = np.random.default_rng(seed)
        ids = rng.integers(0, c['vocab_size'], size=(2, 6))
        logits = forward(c, W, ids, lora, L)
        cases.append({
            'name': name, 'seed': seed, 'dtype': dtype, 'config': c, 'lora': lora,
            'ids': ids.tolist(),
            'logits': [[[float('%.7g' % v) for v in row] for row in seq] for seq in logits],
        })
        print(f'{name}: logits range [{logits.min():.3f}, {logits.max():.3f}]')
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, 'w') as f:
        json.dump({'generator': 'scripts/golden_qwen2.py', 'cases': cases}, f, separators=(',', ':'))
        f.write('\n')
    print(f'wrote {os.path.normpath(OUT)} ({os.path.getsize(OUT)} bytes)')


if __name__ == '__main__':
    main()

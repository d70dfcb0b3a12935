#!/usr/bin/env python3
"""Reference gradients for the training tests (test/train/grad/golden.test.ts), in the style of llm.c.

A small Qwen2 with LoRA on all seven linear layers, built in float64 PyTorch from Hugging Face
transformers' Qwen2ForCausalLM and PEFT's LoRA, with the deterministic weights of scripts/golden_qwen2.py
(both sides derive them from a counter hash, so nothing but the batch and the results is stored). For
one SFT micro-batch it records the loss and the gradient of every trainable (LoRA) matrix, then the
losses of ten AdamW steps (with gradient clipping) on that batch; for one DPO micro-batch (sigmoid loss,
reference log-probs from the same model with the adapter disabled) the loss and every LoRA gradient.

The definitions follow unitrace's objectives (src/train/objectives.ts), which follow TRL: SFT is the
mean negative log-likelihood over the weighted (response) tokens; DPO's per-pair loss is
-log sigmoid(beta * ((pi_c - pi_r) - (ref_c - ref_r))) over summed response log-probs, averaged over pairs.

Run: /tmp/hfv/bin/python scripts/golden_grads.py   (torch, transformers and peft; writes
test/fixtures/train/golden-grads.json)
"""
import json
import os
import sys

import numpy as np
import torch
from peft import LoraConfig, get_peft_model
from transformers import Qwen2Config, Qwen2ForCausalLM

sys.path.insert(0, os.path.dirname(__file__))
from golden_qwen2 import SMALL, hf_config, stored, values, weight_shapes  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'train', 'golden-grads.json')
SEED = 21
LORA = dict(r=4, alpha=8, rslora=False, targetModules=['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'])
ADAM = dict(lr=1e-2, beta1=0.9, beta2=0.999, eps=1e-8, weightDecay=0.01, maxGradNorm=1.0, steps=10)
BETA = 0.1


def build_model(c):
    cfg = Qwen2Config(
        vocab_size=c['vocab_size'], hidden_size=c['hidden_size'], intermediate_size=c['intermediate_size'],
        num_hidden_layers=c['num_hidden_layers'], num_attention_heads=c['num_attention_heads'],
        num_key_value_heads=c['num_key_value_heads'], head_dim=c['head_dim'], rms_norm_eps=c['rms_norm_eps'],
        rope_theta=c['rope_theta'], tie_word_embeddings=c['tie_word_embeddings'],
        max_position_embeddings=c['max_position_embeddings'], attn_implementation='eager')
    model = Qwen2ForCausalLM(cfg).double()
    state = {n: torch.tensor(stored(values(n, s, SEED), 'F32')) for n, s in weight_shapes(c).items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert not unexpected and all(k == 'lm_head.weight' and c['tie_word_embeddings'] for k in missing), (missing, unexpected)
    peft = get_peft_model(model, LoraConfig(r=LORA['r'], lora_alpha=LORA['alpha'], lora_dropout=0.0, use_rslora=LORA['rslora'],
                                            target_modules=LORA['targetModules'], bias='none'))
    params = {}
    for name, p in peft.named_parameters():
        if not p.requires_grad:
            continue
        key = name.replace('.default.weight', '.weight')  # PEFT's saved key, as unitrace names it
        with torch.no_grad():
            p.copy_(torch.tensor(stored(values(key, tuple(p.shape), SEED), 'F32')))
        params[key] = p
    return peft, params


def make_rows(rng, vocab, lengths, prompts):
    """Right-padded rows: inputs seq[:-1], labels seq[1:], weight 1 on the response part (t >= prompt)."""
    T = max(lengths)
    ids = np.zeros((len(lengths), T), dtype=np.int64)
    labels = np.zeros_like(ids)
    weights = np.zeros((len(lengths), T))
    for r, (n, p) in enumerate(zip(lengths, prompts)):
        seq = rng.integers(1, vocab, size=n + 1)
        ids[r, :n], labels[r, :n] = seq[:-1], seq[1:]
        weights[r, p - 1:n] = 1.0  # predictions of the response tokens
    return ids, labels, weights


def token_logps(model, ids, labels):
    logits = model(input_ids=torch.tensor(ids)).logits  # [B, T, V], float64
    return torch.log_softmax(logits, dim=-1).gather(-1, torch.tensor(labels)[..., None])[..., 0]  # [B, T]


def sft_loss(model, batch):
    ids, labels, weights = batch
    w = torch.tensor(weights)
    return -(token_logps(model, ids, labels) * w).sum() / w.sum().clamp(min=1.0)


def grads_of(loss, params):
    for p in params.values():
        p.grad = None
    loss.backward()
    return {k: p.grad.detach().numpy().copy() for k, p in params.items()}


def batch_json(kind, batch, lengths, extra=None):
    ids, labels, weights = batch
    out = {'kind': kind, 'inputIds': ids.reshape(-1).tolist(), 'labels': labels.reshape(-1).tolist(),
           'weights': weights.reshape(-1).tolist(), 'rowLengths': lengths, 'batch': ids.shape[0], 'seqLen': ids.shape[1]}
    out.update(extra or {})
    return out


def rounded(a):
    return [float('%.9g' % v) for v in np.asarray(a).reshape(-1)]


def main():
    torch.manual_seed(0)
    c = hf_config(SMALL['vocab'], SMALL['hidden'], SMALL['inter'], SMALL['layers'], SMALL['heads'], SMALL['kv'],
                  SMALL['head_dim'], SMALL['theta'], False)
    model, params = build_model(c)
    rng = np.random.default_rng(SEED)

    # SFT: three rows of different lengths, prompts not trained.
    sft_lengths, sft_prompts = [10, 7, 9], [4, 3, 5]
    sft = make_rows(rng, c['vocab_size'], sft_lengths, sft_prompts)
    loss = sft_loss(model, sft)
    sft_grads = grads_of(loss, params)
    init = {k: p.detach().clone() for k, p in params.items()}
    opt = torch.optim.AdamW(list(params.values()), lr=ADAM['lr'], betas=(ADAM['beta1'], ADAM['beta2']), eps=ADAM['eps'],
                            weight_decay=ADAM['weightDecay'])
    losses = []
    for _ in range(ADAM['steps']):
        opt.zero_grad()
        step_loss = sft_loss(model, sft)
        step_loss.backward()
        torch.nn.utils.clip_grad_norm_(list(params.values()), ADAM['maxGradNorm'])
        opt.step()
        losses.append(step_loss.item())
    with torch.no_grad():
        for k, p in params.items():
            p.copy_(init[k])

    # DPO: two pairs, rows interleaved (chosen, rejected); each pair shares its prompt tokens.
    dpo_lengths, dpo_prompts = [8, 10, 9, 6], [3, 3, 4, 4]
    ids, labels, weights = make_rows(rng, c['vocab_size'], dpo_lengths, dpo_prompts)
    for pair in range(2):
        n = dpo_prompts[2 * pair]
        ids[2 * pair + 1, :n] = ids[2 * pair, :n]
        labels[2 * pair + 1, :n - 1] = labels[2 * pair, :n - 1]
    dpo = (ids, labels, weights)
    w = torch.tensor(weights)
    with torch.no_grad(), model.disable_adapter():
        ref = (token_logps(model, ids, labels) * w).sum(-1).numpy()
    policy = (token_logps(model, ids, labels) * w).sum(-1)  # [2P]
    h = (policy[0::2] - policy[1::2]) - torch.tensor(ref[0::2] - ref[1::2])
    dpo_loss = torch.nn.functional.softplus(-BETA * h).mean()
    dpo_grads = grads_of(dpo_loss, params)

    result = {
        'generator': 'scripts/golden_grads.py',
        'torch': torch.__version__,
        'seed': SEED,
        'config': c,
        'lora': LORA,
        'adam': ADAM,
        'sft': {'batch': batch_json('sft', sft, sft_lengths), 'loss': loss.item(),
                'grads': {k: rounded(g) for k, g in sft_grads.items()}, 'adamLosses': losses},
        'dpo': {'beta': BETA, 'batch': batch_json('dpo', dpo, dpo_lengths, {'pairs': 2, 'refChosen': ref[0::2].tolist(), 'refRejected': ref[1::2].tolist()}),
                'loss': dpo_loss.item(), 'grads': {k: rounded(g) for k, g in dpo_grads.items()}},
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, 'w') as f:
        json.dump(result, f, separators=(',', ':'))
        f.write('\n')
    print(f'sft loss {loss.item():.6f}, adam losses {losses[0]:.6f} .. {losses[-1]:.6f}; dpo loss {dpo_loss.item():.6f}')
    print(f'wrote {os.path.normpath(OUT)} ({os.path.getsize(OUT)} bytes, {len(sft_grads)} LoRA matrices)')


if __name__ == '__main__':
    main()

// Logits against the float64 NumPy reference (scripts/golden_qwen2.py) on random-init models: two
// shapes (one with Qwen2.5-0.5B's widths), F32/F16/BF16 checkpoints, tied/untied, with and without LoRA;
// on wasm with the engine's fast paths and with its reference compositions.
import { test } from 'node:test';
import { goldenCases, checkParity } from './golden-weights.js';

for (const c of goldenCases()) test(`parity ${c.name} (${c.dtype}) on wasm within 1e-4 of the float64 reference`, (t) => checkParity(t, c, 'wasm', [null, false]));

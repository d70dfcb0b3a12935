// The same golden logits on the plain-JS cpu backend (where models too large for wasm's heap run).
import { test } from 'node:test';
import { goldenCases, checkParity } from './golden-weights.js';

for (const c of goldenCases()) test(`parity ${c.name} (${c.dtype}) on cpu within 1e-4 of the float64 reference`, (t) => checkParity(t, c, 'cpu', [null]));

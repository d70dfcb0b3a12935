// Child process for the kill -9 test: runs (or resumes) an SFT run described by a JSON file, printing
// each step so the parent knows when to kill it.
import { readFileSync } from 'node:fs';
import type { Config } from '../../../src/config/index.js';
import { runSft } from '../../../src/train/sft.js';

const spec = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as { config: Config; data: unknown[]; out: string; resume: boolean };
const result = await runSft(spec.config, { data: spec.data, out: spec.out, resume: spec.resume, onStep: (row) => console.log(`step ${row.step}`) });
console.log(`done resumedFrom=${result.resumedFrom}`);

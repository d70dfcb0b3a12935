// The Python with the Hugging Face stack (transformers, trl, peft) that reference tests run when it is
// present: $UNITRACE_HF_PYTHON, else /tmp/hfv/bin/python. Tests that need it skip with the reason otherwise.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const candidate = process.env.UNITRACE_HF_PYTHON ?? '/tmp/hfv/bin/python';

let probed: string | null | undefined;
/** The interpreter when it imports `modules`, else null. */
export function hfPython(modules = ['torch', 'transformers', 'trl', 'peft']): string | null {
  if (probed === undefined) probed = existsSync(candidate) ? candidate : null;
  if (!probed) return null;
  const ok = spawnSync(probed, ['-c', `import ${modules.join(', ')}`], { encoding: 'utf8', timeout: 120_000 });
  return ok.status === 0 ? probed : null;
}

export const NO_HF_PYTHON = `no Python with the Hugging Face stack (set UNITRACE_HF_PYTHON or create /tmp/hfv)`;

/** Runs a script with the reference Python; throws with its stderr on failure. */
export function runPython(python: string, args: string[], opts: { input?: string; timeoutMs?: number; env?: Record<string, string> } = {}): string {
  const r = spawnSync(python, args, { encoding: 'utf8', input: opts.input, timeout: opts.timeoutMs ?? 120_000, env: { ...process.env, ...opts.env }, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${python} ${args.join(' ')} exited ${r.status ?? r.signal}:\n${r.stderr}`);
  return r.stdout;
}

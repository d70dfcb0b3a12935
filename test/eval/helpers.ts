import type { ResponseVerdict } from '../../src/eval/types.js';

/** A verdict field by the names the fixture's `expect` objects use. */
export function fieldOf(v: ResponseVerdict, key: string): unknown {
  if (key === 'countdownReason') return v.countdown?.stated?.reason ?? null;
  if (key === 'countdownProgramReason') return v.countdown?.program?.reason ?? null;
  return (v as unknown as Record<string, unknown>)[key];
}

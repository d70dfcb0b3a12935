// Responses generated outside unitrace (generate.py of an export, vLLM...) as the evaluation's
// generations: <dir>/<model>.jsonl, one {"id", "response"} (or "completion" / "messages") per eval item.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readOutputs } from './items.js';
import type { EvalItem } from './types.js';

export interface ExternalGeneration {
  id: string;
  text: string;
  tokens: number;
  finishReason: string;
}

export const responsesFile = (dir: string, model: string): string => join(dir, `${model}.jsonl`);

/** The model's responses in `dir`, one per eval item, or null when the folder has no file for it. */
export function readResponses(dir: string, model: string, items: readonly EvalItem[]): ExternalGeneration[] | null {
  const file = responsesFile(dir, model);
  if (!existsSync(file)) return null;
  const { outputs, errors } = readOutputs(file, { items });
  if (errors.length) throw new Error(`${errors.length} unusable line(s): ${errors.slice(0, 3).join('; ')}`);
  const byId = new Map(outputs.map((o) => [o.id, o]));
  const missing = items.filter((it) => !byId.has(it.id));
  if (missing.length) throw new Error(`${file}: no response for ${missing.length} of ${items.length} eval items (first: ${missing[0]!.id})`);
  return items.map((it) => {
    const o = byId.get(it.id)!;
    return { id: it.id, text: o.response, tokens: o.tokens ?? 0, finishReason: o.finishReason ?? 'unknown' };
  });
}

// Reading eval items and externally produced responses (e.g. from a model trained with TRL), with
// errors that name the file and line.
import type { InstructionCheck } from '../data/checks.js';
import { checkInputFile } from '../util/files.js';
import { readJsonlFile } from '../util/jsonl.js';
import type { EvalItem, Message } from './types.js';

export class EvalInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EvalInputError';
  }
}

/** Checks an eval item's shape; `where` names the file and line in the error. */
export function asEvalItem(raw: unknown, where: string): EvalItem {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new EvalInputError(`${where}: an eval item must be a JSON object`);
  const o = raw as Record<string, unknown>;
  if (typeof o.id !== 'string' && typeof o.id !== 'number') throw new EvalInputError(`${where}: eval item has no "id"`);
  // TRL's standard (non-conversational) format has the prompt as a plain string.
  const text = typeof o.prompt === 'string' ? o.prompt : typeof o.question === 'string' ? o.question : null;
  const prompt = asMessages(text !== null ? [{ role: 'user', content: text }] : o.prompt, `${where}: "prompt"`);
  const countdown = o.countdown as { nums?: unknown; target?: unknown } | undefined;
  if (countdown !== undefined && !(Array.isArray(countdown.nums) && countdown.nums.every((n) => typeof n === 'number') && typeof countdown.target === 'number')) {
    throw new EvalInputError(`${where}: "countdown" must be {nums: number[], target: number}`);
  }
  if (o.groundTruth !== undefined && typeof o.groundTruth !== 'string' && typeof o.groundTruth !== 'number') {
    throw new EvalInputError(`${where}: "groundTruth" must be a string or a number`);
  }
  const kind = o.kind ?? 'trace';
  if (kind !== 'trace' && kind !== 'instruction') throw new EvalInputError(`${where}: "kind" must be "trace" or "instruction"`);
  return {
    id: String(o.id),
    prompt,
    family: typeof o.family === 'string' ? o.family : 'unknown',
    ood: o.ood === true,
    kind,
    ...(o.groundTruth !== undefined ? { groundTruth: o.groundTruth as string | number } : {}),
    ...(o.check !== undefined ? { check: o.check as InstructionCheck } : {}),
    ...(countdown ? { countdown: { nums: countdown.nums as number[], target: countdown.target as number } } : {}),
    ...(typeof o.tolerance === 'number' ? { tolerance: o.tolerance } : {}),
  };
}

function asMessages(raw: unknown, where: string): Message[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) throw new EvalInputError(`${where} must be a list of {role, content} messages`);
  return raw.map((m, i) => {
    const o = m as Record<string, unknown>;
    if (!o || typeof o.content !== 'string' || !['system', 'user', 'assistant'].includes(o.role as string)) {
      throw new EvalInputError(`${where}[${i}] is not a {role, content} message`);
    }
    return { role: o.role as Message['role'], content: o.content };
  });
}

export function readEvalItems(file: string): EvalItem[] {
  checkInputFile(file, 'eval items JSONL');
  const rows = readJsonlFile(file);
  const items = rows.map((r) => {
    if (r.error) throw r.error;
    return asEvalItem(r.value, `${file}:${r.line}`);
  });
  const seen = new Set<string>();
  for (const it of items) {
    if (seen.has(it.id)) throw new EvalInputError(`${file}: eval item id ${JSON.stringify(it.id)} appears twice`);
    seen.add(it.id);
  }
  return items;
}

/** One externally produced output: its text, and the item it answers when the record carries one. */
export interface ExternalOutput {
  line: number;
  id: string;
  response: string;
  item: EvalItem;
  tokens?: number;
  finishReason?: string;
}

/**
 * The response text of a record: `field` if given, else `response`, `completion` (a string or TRL's
 * message list) or the last assistant turn of `messages`.
 */
export function responseOf(o: Record<string, unknown>, field?: string): { text: string; prompt?: Message[] } | null {
  if (field) return typeof o[field] === 'string' ? { text: o[field] as string } : null;
  if (typeof o.response === 'string') return { text: o.response };
  if (typeof o.completion === 'string') return { text: o.completion };
  const turns = Array.isArray(o.completion) ? o.completion : Array.isArray(o.messages) ? o.messages : null;
  if (!turns) return null;
  for (let i = turns.length - 1; i >= 0; i--) {
    const m = turns[i] as Record<string, unknown>;
    if (m && m.role === 'assistant' && typeof m.content === 'string') {
      const prompt = Array.isArray(o.completion) ? (o.prompt as Message[] | undefined) : (turns.slice(0, i) as Message[]);
      return { text: m.content, ...(Array.isArray(prompt) ? { prompt } : {}) };
    }
  }
  return null;
}

/**
 * Reads a JSONL file of outputs. Each record's item comes from its own fields (id, family, ood, kind,
 * groundTruth, countdown, check, prompt) or, when `items` is given, from the item with the same id.
 * Bad lines are returned as errors and the rest is still scored.
 */
export function readOutputs(file: string, opts: { field?: string; items?: readonly EvalItem[] } = {}): { outputs: ExternalOutput[]; errors: string[] } {
  const byId = new Map((opts.items ?? []).map((it) => [it.id, it]));
  const outputs: ExternalOutput[] = [];
  const errors: string[] = [];
  checkInputFile(file, 'model outputs JSONL');
  for (const row of readJsonlFile<Record<string, unknown>>(file)) {
    if (row.error) {
      errors.push(row.error.message);
      continue;
    }
    const where = `${file}:${row.line}`;
    const o = row.value;
    if (!o || typeof o !== 'object' || Array.isArray(o)) {
      errors.push(`${where}: a record must be a JSON object`);
      continue;
    }
    const resp = responseOf(o, opts.field);
    if (!resp) {
      errors.push(`${where}: no response text (expected ${opts.field ? `"${opts.field}"` : '"response", "completion" or an assistant turn in "messages"'})`);
      continue;
    }
    const id = o.id !== undefined ? String(o.id) : `line-${row.line}`;
    let item: EvalItem | null = byId.get(id) ?? null;
    if (!item && byId.size === 0) {
      try {
        item = asEvalItem({ ...o, id, prompt: resp.prompt ?? o.prompt ?? [] }, where);
      } catch (e) {
        errors.push((e as Error).message);
        continue;
      }
    }
    if (!item) {
      errors.push(`${where}: id ${JSON.stringify(id)} is not in the eval set`);
      continue;
    }
    outputs.push({
      line: row.line,
      id,
      response: resp.text,
      item,
      ...(typeof o.tokens === 'number' ? { tokens: o.tokens } : {}),
      ...(typeof o.finishReason === 'string' ? { finishReason: o.finishReason } : {}),
    });
  }
  return { outputs, errors };
}

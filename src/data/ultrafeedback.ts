// UltraFeedback from a file the user supplies (no copy ships with unitrace):
//  - HuggingFaceH4/ultrafeedback_binarized, parquet or JSONL: rows with `messages` give SFT examples
//    (train_sft), rows with `chosen`/`rejected` give preference pairs (train_prefs); a row may give both.
//  - openbmb/UltraFeedback JSONL: `instruction` + `completions[]`; the best completion by overall_score is
//    the SFT answer, best vs worst is a preference pair.
// Malformed lines and rows that fit neither shape are reported with file and line, and skipped.
import { existsSync, readFileSync } from 'node:fs';
import { sha256 } from '../util/hash.js';
import { JsonlError, readJsonlFile } from '../util/jsonl.js';
import type { Message, PreferencePair, SftExample } from './types.js';

export interface UltraFeedbackData {
  sft: SftExample[];
  prefs: PreferencePair[];
  /** One per skipped line or row: `file:line: reason`. */
  errors: JsonlError[];
  format: 'binarized' | 'openbmb' | 'mixed' | 'empty';
  rows: number;
}

type Row = Record<string, unknown>;

const ROLES = new Set(['system', 'user', 'assistant']);

function asMessages(v: unknown): Message[] | null {
  if (!Array.isArray(v) || v.length === 0) return null;
  const out: Message[] = [];
  for (const m of v) {
    if (!m || typeof m !== 'object') return null;
    const { role, content } = m as { role?: unknown; content?: unknown };
    if (typeof role !== 'string' || !ROLES.has(role) || typeof content !== 'string') return null;
    out.push({ role: role as Message['role'], content });
  }
  return out;
}

/** Splits a conversation into the prompt (everything before the last assistant turn) and that turn. */
function splitLastAssistant(msgs: Message[]): { prompt: Message[]; answer: Message } | null {
  const last = msgs[msgs.length - 1]!;
  if (last.role !== 'assistant' || msgs.length < 2) return null;
  return { prompt: msgs.slice(0, -1), answer: last };
}

const idOf = (prompt: string, tag: string): string => `uf-${tag}-${sha256(prompt).slice(0, 12)}`;

/** Converts one row; returns what it yields, or a reason when it yields nothing. */
export function convertRow(row: Row): { sft?: SftExample; pref?: PreferencePair; format: 'binarized' | 'openbmb' } | { error: string } {
  if (Array.isArray(row.completions) && typeof row.instruction === 'string') {
    const scored = (row.completions as Row[])
      .filter((c) => c && typeof c.response === 'string' && typeof c.overall_score === 'number' && Number.isFinite(c.overall_score))
      .sort((a, b) => (b.overall_score as number) - (a.overall_score as number));
    if (scored.length === 0) return { error: 'openbmb row has no completion with a response and an overall_score' };
    const prompt: Message[] = [{ role: 'user', content: row.instruction }];
    const best = scored[0]!;
    const worst = scored[scored.length - 1]!;
    const out: { sft?: SftExample; pref?: PreferencePair; format: 'openbmb' } = {
      format: 'openbmb',
      sft: { messages: [...prompt, { role: 'assistant', content: best.response as string }], source: 'original', id: idOf(row.instruction, 'sft') },
    };
    if ((best.overall_score as number) > (worst.overall_score as number)) {
      out.pref = {
        prompt,
        chosen: [{ role: 'assistant', content: best.response as string }],
        rejected: [{ role: 'assistant', content: worst.response as string }],
        source: 'original',
        id: idOf(row.instruction, 'pref'),
        rejectedKind: 'ultrafeedback',
      };
    }
    return out;
  }
  const out: { sft?: SftExample; pref?: PreferencePair; format: 'binarized' } = { format: 'binarized' };
  const messages = asMessages(row.messages);
  if (messages) {
    if (!splitLastAssistant(messages)) return { error: '`messages` does not end with an assistant turn' };
    const key = typeof row.prompt === 'string' ? row.prompt : messages[0]!.content;
    out.sft = { messages, source: 'original', id: idOf(key, 'sft') };
  }
  const chosen = asMessages(row.chosen);
  const rejected = asMessages(row.rejected);
  if (chosen && rejected) {
    const c = splitLastAssistant(chosen);
    const r = splitLastAssistant(rejected);
    if (!c || !r) return { error: '`chosen`/`rejected` do not end with an assistant turn' };
    const promptText = typeof row.prompt === 'string' ? row.prompt : c.prompt.map((m) => m.content).join('\n');
    out.pref = { prompt: c.prompt, chosen: [c.answer], rejected: [r.answer], source: 'original', id: idOf(promptText, 'pref'), rejectedKind: 'ultrafeedback' };
  }
  if (!out.sft && !out.pref) return { error: 'row has neither `messages`, `chosen`/`rejected` nor `instruction`/`completions`' };
  return out;
}

async function readParquetRows(file: string): Promise<Row[]> {
  const { parquetReadObjects } = await import('hyparquet');
  const buf = readFileSync(file);
  const arrayBuffer = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
  try {
    return (await parquetReadObjects({ file: arrayBuffer })) as Row[];
  } catch (e) {
    throw new Error(`${file}: cannot read parquet (${(e as Error).message})`);
  }
}

/** Loads UltraFeedback rows from a `.parquet` file or a JSONL file. */
export async function loadUltraFeedback(file: string): Promise<UltraFeedbackData> {
  if (!existsSync(file)) throw new Error(`${file}: no such file (expected a UltraFeedback parquet or JSONL file)`);
  const data: UltraFeedbackData = { sft: [], prefs: [], errors: [], format: 'empty', rows: 0 };
  const formats = new Set<string>();
  const take = (row: unknown, line: number, unit: string): void => {
    data.rows++;
    if (!row || typeof row !== 'object' || Array.isArray(row)) {
      data.errors.push(new JsonlError(file, line, `${unit} is not a JSON object`));
      return;
    }
    const r = convertRow(row as Row);
    if ('error' in r) {
      data.errors.push(new JsonlError(file, line, r.error));
      return;
    }
    formats.add(r.format);
    if (r.sft) data.sft.push(r.sft);
    if (r.pref) data.prefs.push(r.pref);
  };
  if (/\.parquet$/i.test(file)) {
    // Parquet has no lines: errors name the 1-based row number instead.
    (await readParquetRows(file)).forEach((row, i) => take(row, i + 1, 'row'));
  } else {
    for (const row of readJsonlFile(file)) {
      if (row.error) {
        data.rows++;
        data.errors.push(row.error);
      } else take(row.value, row.line, 'line');
    }
  }
  data.format = formats.size === 0 ? 'empty' : formats.size > 1 ? 'mixed' : ([...formats][0] as 'binarized' | 'openbmb');
  return data;
}

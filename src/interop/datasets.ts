// The run's datasets as TRL (and pyarrow) read them. SFT rows become conversational prompt-completion
// rows (TRL then trains on the completion only, as unitrace does); preference pairs keep prompt /
// chosen / rejected. Every column has one type across rows: metadata is written as strings (or null),
// since pyarrow refuses a column that mixes numbers and strings (groundTruth does).
import { readJsonl } from '../util/jsonl.js';
import type { Message } from '../train/types.js';

export interface TrlSftRow {
  prompt: Message[];
  completion: Message[];
  id: string;
  source: string | null;
  family: string | null;
  groundTruth: string | null;
}

export interface TrlPairRow {
  prompt: Message[];
  chosen: Message[];
  rejected: Message[];
  id: string;
  source: string | null;
  family: string | null;
  groundTruth: string | null;
  rejectedKind: string | null;
}

/** One prompt to generate from elsewhere: the messages, and the exact text unitrace feeds its model. */
export interface EvalPromptRow {
  id: string;
  messages: Message[];
  /** The chat template applied with the generation prompt. */
  prompt: string;
  family: string | null;
  kind: string | null;
}

const text = (v: unknown): string | null => (v === undefined || v === null ? null : typeof v === 'string' ? v : JSON.stringify(v));

function messages(value: unknown, where: string): Message[] {
  if (!Array.isArray(value) || value.length === 0) throw new Error(`${where}: not a non-empty list of messages`);
  return value.map((m, i) => {
    const msg = m as Partial<Message>;
    if (!msg || !['system', 'user', 'assistant'].includes(String(msg.role)) || typeof msg.content !== 'string')
      throw new Error(`${where}[${i}]: not a {role, content} message`);
    // Only role and content: extra keys would make the message struct differ between rows.
    return { role: msg.role!, content: msg.content };
  });
}

/** SFT JSONL (messages, or prompt + completion) -> prompt-completion rows. */
export function sftRowsForTrl(file: string): TrlSftRow[] {
  return readJsonl<Record<string, unknown>>(file).map((row, i) => {
    const where = `${file}:${i + 1}`;
    let prompt: Message[];
    let completion: Message[];
    if (Array.isArray(row.messages)) {
      const all = messages(row.messages, `${where} messages`);
      const last = all[all.length - 1]!;
      if (last.role !== 'assistant' || all.length < 2) throw new Error(`${where}: messages must end with an assistant turn after a prompt`);
      prompt = all.slice(0, -1);
      completion = [last];
    } else if (Array.isArray(row.prompt) && Array.isArray(row.completion)) {
      prompt = messages(row.prompt, `${where} prompt`);
      completion = messages(row.completion, `${where} completion`);
    } else throw new Error(`${where}: an SFT row needs messages, or prompt and completion (plain-text rows are not exported)`);
    return { prompt, completion, id: text(row.id) ?? `row-${i + 1}`, source: text(row.source), family: text(row.family), groundTruth: text(row.groundTruth) };
  });
}

export function pairRowsForTrl(file: string): TrlPairRow[] {
  return readJsonl<Record<string, unknown>>(file).map((row, i) => {
    const where = `${file}:${i + 1}`;
    const side = (k: 'chosen' | 'rejected') => {
      const m = messages(row[k], `${where} ${k}`);
      if (m[m.length - 1]!.role !== 'assistant') throw new Error(`${where}: ${k} must end with an assistant turn`);
      return m;
    };
    return {
      prompt: messages(row.prompt, `${where} prompt`),
      chosen: side('chosen'),
      rejected: side('rejected'),
      id: text(row.id) ?? `pair-${i + 1}`,
      source: text(row.source),
      family: text(row.family),
      groundTruth: text(row.groundTruth),
      rejectedKind: text(row.rejectedKind),
    };
  });
}

export function evalPromptRows(file: string, render: (m: Message[]) => string): EvalPromptRow[] {
  return readJsonl<Record<string, unknown>>(file).map((item, i) => {
    const where = `${file}:${i + 1}`;
    if (typeof item.id !== 'string') throw new Error(`${where}: an eval item needs a string id`);
    const m = messages(item.prompt, `${where} prompt`);
    return { id: item.id, messages: m, prompt: render(m), family: text(item.family), kind: text(item.kind) };
  });
}

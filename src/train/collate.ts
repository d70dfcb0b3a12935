// From chat-formatted rows to right-padded token batches. The loss covers the assistant response only,
// with its closing <|im_end|> (and the template's newline after it, as TRL) inside the labels so the model learns to stop.
import { parseJsonl, readTextFile } from '../util/jsonl.js';
import type { Rng } from '../util/rng.js';
import type { DpoBatch, Message, SftBatch } from './types.js';

/** What collation needs from a tokenizer: the model's Tokenizer satisfies it. */
export interface ChatTokenizer {
  encode(text: string): ArrayLike<number>;
  applyChatTemplate(messages: Message[], options: { addGenerationPrompt: boolean }): string;
  imEndId: number;
  eosIds: readonly number[];
}

/** A training row as read from JSONL: TRL conversational, prompt-completion, or plain text (pretraining). */
export type SftRow = { id?: string; messages: Message[] } | { id?: string; prompt: Message[]; completion: Message[] } | { id?: string; text: string };
export interface PairRow {
  id?: string;
  prompt: Message[];
  chosen: Message[];
  rejected: Message[];
}

export interface TokenLimits {
  maxPromptTokens: number;
  maxResponseTokens: number;
}

/** One sequence: prompt tokens then response tokens; only the response is trained. */
export interface TokenizedSequence {
  id: string;
  ids: Int32Array;
  promptLength: number;
  promptTruncated: boolean;
  responseTruncated: boolean;
}

export interface TokenizedPair {
  id: string;
  chosen: TokenizedSequence;
  rejected: TokenizedSequence;
}

export interface TruncationReport {
  sequences: number;
  promptTruncated: number;
  responseTruncated: number;
  /** Input tokens per epoch (prompt + response, no padding). */
  tokens: number;
  responseTokens: number;
  maxLength: number;
}

const isMessage = (m: unknown): m is Message =>
  !!m && typeof m === 'object' && ['system', 'user', 'assistant'].includes((m as Message).role) && typeof (m as Message).content === 'string';

function checkMessages(value: unknown, what: string): Message[] {
  if (!Array.isArray(value) || value.length === 0) throw new Error(`${what} is not a non-empty list of messages`);
  value.forEach((m, i) => {
    if (!isMessage(m)) throw new Error(`${what}[${i}] is not a {role: system|user|assistant, content: string} message`);
  });
  return value as Message[];
}

/** Splits an SFT row into (prompt messages, the trained assistant message), or plain text. */
function splitSftRow(row: SftRow): { prompt: Message[]; response: Message } | { text: string } {
  if ('text' in row) {
    if (typeof row.text !== 'string' || row.text === '') throw new Error('text is empty or not a string');
    return { text: row.text };
  }
  if ('messages' in row) {
    const messages = checkMessages(row.messages, 'messages');
    const last = messages[messages.length - 1]!;
    if (last.role !== 'assistant') throw new Error(`the last message is from '${last.role}', not the assistant`);
    if (messages.length < 2) throw new Error('messages hold a response but no prompt');
    return { prompt: messages.slice(0, -1), response: last };
  }
  if ('prompt' in row && 'completion' in row) {
    const prompt = checkMessages(row.prompt, 'prompt');
    const completion = checkMessages(row.completion, 'completion');
    if (completion.length !== 1 || completion[0]!.role !== 'assistant') throw new Error('completion must be one assistant message');
    return { prompt, response: completion[0]! };
  }
  throw new Error('row has neither messages, prompt+completion nor text');
}

/**
 * Tokenizes as TRL does (trl/trainer/dpo_trainer.py DPOTrainer._prepare_dataset and sft_trainer.py's
 * prompt-completion tokenize_fn): the prompt rendered with the generation prompt, the whole conversation
 * rendered without it, and the response is every token of the conversation after the prompt's, so the
 * newline the template puts after <|im_end|> is trained too. Prompts keep their end, responses their start.
 */
export function tokenizeTurn(tok: ChatTokenizer, prompt: Message[], response: Message, limits: TokenLimits, id: string): TokenizedSequence {
  const promptText = tok.applyChatTemplate(prompt, { addGenerationPrompt: true });
  const fullText = tok.applyChatTemplate([...prompt, response], { addGenerationPrompt: false });
  if (!fullText.startsWith(promptText)) throw new Error('the chat template renders the conversation with a different prefix than the prompt');
  let promptIds = Array.from(tok.encode(promptText));
  let responseIds = Array.from(tok.encode(fullText)).slice(promptIds.length);
  if (!responseIds.includes(tok.imEndId)) throw new Error('the rendered response has no <|im_end|>');
  const promptTruncated = promptIds.length > limits.maxPromptTokens;
  if (promptTruncated) promptIds = promptIds.slice(promptIds.length - limits.maxPromptTokens);
  const responseTruncated = responseIds.length > limits.maxResponseTokens;
  if (responseTruncated) responseIds = responseIds.slice(0, limits.maxResponseTokens);
  return { id, ids: Int32Array.from([...promptIds, ...responseIds]), promptLength: promptIds.length, promptTruncated, responseTruncated };
}

/** Plain text: every token trained, ending in <|endoftext|> when the tokenizer has it. */
function tokenizeText(tok: ChatTokenizer, text: string, limits: TokenLimits, id: string): TokenizedSequence {
  const ids = Array.from(tok.encode(text));
  const eot = tok.eosIds.find((e) => e !== tok.imEndId);
  if (eot !== undefined) ids.push(eot);
  const max = limits.maxPromptTokens + limits.maxResponseTokens;
  const responseTruncated = ids.length > max;
  // Position 0 has no prediction target, so the first token counts as the "prompt".
  return { id, ids: Int32Array.from(responseTruncated ? ids.slice(0, max) : ids), promptLength: 1, promptTruncated: false, responseTruncated };
}

export function tokenizeSftRow(tok: ChatTokenizer, row: SftRow, limits: TokenLimits, id: string): TokenizedSequence {
  const parts = splitSftRow(row);
  const seq = 'text' in parts ? tokenizeText(tok, parts.text, limits, id) : tokenizeTurn(tok, parts.prompt, parts.response, limits, id);
  if (seq.ids.length - seq.promptLength < 1) throw new Error('no response token left to train on');
  return seq;
}

export function tokenizePairRow(tok: ChatTokenizer, row: PairRow, limits: TokenLimits, id: string): TokenizedPair {
  const prompt = checkMessages(row.prompt, 'prompt');
  const pick = (side: 'chosen' | 'rejected'): Message => {
    const msgs = checkMessages(row[side], side);
    const last = msgs[msgs.length - 1]!;
    if (last.role !== 'assistant') throw new Error(`${side} does not end with an assistant message`);
    return last;
  };
  return { id, chosen: tokenizeTurn(tok, prompt, pick('chosen'), limits, id), rejected: tokenizeTurn(tok, prompt, pick('rejected'), limits, id) };
}

/** Reads and tokenizes a JSONL file; a malformed row is an error naming file:line and the row's id. */
export function loadRows<T>(file: string, tokenize: (row: T, id: string) => TokenizedSequence | TokenizedPair): (TokenizedSequence | TokenizedPair)[] {
  let text: string;
  try {
    text = readTextFile(file);
  } catch (e) {
    throw new Error(`${file}: cannot read training data (${(e as Error).message})`);
  }
  const out: (TokenizedSequence | TokenizedPair)[] = [];
  for (const row of parseJsonl<T & { id?: string }>(text, file)) {
    if (row.error) throw row.error;
    const id = typeof row.value?.id === 'string' ? row.value.id : `${file}:${row.line}`;
    try {
      if (!row.value || typeof row.value !== 'object') throw new Error('row is not a JSON object');
      out.push(tokenize(row.value, id));
    } catch (e) {
      throw new Error(`${file}:${row.line} (id ${id}): bad example: ${(e as Error).message}`);
    }
  }
  if (out.length === 0) throw new Error(`${file}: no training examples`);
  return out;
}

export function truncationReport(seqs: readonly TokenizedSequence[]): TruncationReport {
  const r: TruncationReport = { sequences: seqs.length, promptTruncated: 0, responseTruncated: 0, tokens: 0, responseTokens: 0, maxLength: 0 };
  for (const s of seqs) {
    if (s.promptTruncated) r.promptTruncated++;
    if (s.responseTruncated) r.responseTruncated++;
    r.tokens += s.ids.length - 1;
    r.responseTokens += s.ids.length - s.promptLength;
    r.maxLength = Math.max(r.maxLength, s.ids.length - 1);
  }
  return r;
}

/**
 * One epoch's batches as lists of example indices: a seeded shuffle; with grouping, examples of similar
 * length share a batch (less padding) while the batch order stays random.
 */
export function epochBatches(lengths: readonly number[], batchSize: number, rng: Rng, groupByLength = true): number[][] {
  const order = rng.shuffle(lengths.map((_, i) => i));
  const batches: number[][] = [];
  const window = groupByLength ? batchSize * 32 : batchSize;
  for (let start = 0; start < order.length; start += window) {
    const chunk = order.slice(start, start + window);
    if (groupByLength) chunk.sort((a, b) => lengths[b]! - lengths[a]! || a - b);
    for (let i = 0; i < chunk.length; i += batchSize) batches.push(chunk.slice(i, i + batchSize));
  }
  return groupByLength ? rng.shuffle(batches) : batches;
}

/** Writes sequences as right-padded rows: inputs ids[0..L-2], labels ids[1..L-1], weights on response labels. */
function fillRows(seqs: readonly TokenizedSequence[], padId: number): Omit<SftBatch, 'kind' | 'seed'> {
  const seqLen = Math.max(...seqs.map((s) => s.ids.length - 1));
  const n = seqs.length * seqLen;
  const inputIds = new Int32Array(n).fill(padId);
  const labels = new Int32Array(n);
  const weights = new Float32Array(n);
  const rowLengths = new Int32Array(seqs.length);
  let tokens = 0;
  seqs.forEach((s, r) => {
    const len = s.ids.length - 1;
    rowLengths[r] = len;
    tokens += len;
    const base = r * seqLen;
    for (let t = 0; t < len; t++) {
      inputIds[base + t] = s.ids[t]!;
      labels[base + t] = s.ids[t + 1]!;
      if (t + 1 >= s.promptLength) weights[base + t] = 1;
    }
  });
  return { inputIds, labels, weights, rowLengths, batch: seqs.length, seqLen, tokens };
}

export function collateSft(seqs: readonly TokenizedSequence[], padId: number, seed: number): SftBatch {
  if (seqs.length === 0) throw new Error('collateSft: empty batch');
  return { kind: 'sft', seed, ...fillRows(seqs, padId) };
}

/** Rows interleave chosen and rejected (row 2i, 2i+1); ref log-probs in pair order. */
export function collateDpo(pairs: readonly TokenizedPair[], refChosen: Float32Array, refRejected: Float32Array, padId: number, seed: number): DpoBatch {
  if (pairs.length === 0) throw new Error('collateDpo: empty batch');
  const rows = fillRows(pairs.flatMap((p) => [p.chosen, p.rejected]), padId);
  return { kind: 'dpo', seed, pairs: pairs.length, refChosen, refRejected, ...rows };
}

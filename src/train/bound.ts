// Cuts oversized message texts before they are tokenized. Training keeps the first maxResponseTokens
// tokens of a response and the last maxPromptTokens of a prompt, so a 50 MB response need not be rendered
// and encoded whole (that ran the V8 heap out of memory). n tokens never cover more than
// n * maxTokenBytes bytes, and a character is at least one byte, so a cut that far away only changes the
// tokens around the cut; each cut is checked against one twice as long, so nothing that would be kept is lost.
import type { Message } from './types.js';
import type { SftRow, PairRow, TokenLimits } from './collate.js';

export interface BoundTokenizer {
  encode(text: string): ArrayLike<number>;
  maxTokenBytes: number;
}

/** Cuts at `at` without splitting a surrogate pair. */
function headOf(text: string, at: number): string {
  const code = text.charCodeAt(at - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? at - 1 : at);
}

function tailOf(text: string, length: number): string {
  let from = text.length - length;
  const code = text.charCodeAt(from);
  if (code >= 0xdc00 && code <= 0xdfff) from++;
  return text.slice(from);
}

const same = (a: ArrayLike<number>, b: ArrayLike<number>): boolean => a.length === b.length && Array.prototype.every.call(a, (x: number, i: number) => x === b[i]);
const first = (ids: ArrayLike<number>, n: number): number[] => Array.from(ids).slice(0, n);
const last = (ids: ArrayLike<number>, n: number): number[] => Array.from(ids).slice(-n);

/**
 * The shortest cut of `text` (its start, or its end with side 'end') whose first (last) `keep` tokens
 * are the text's own; the text itself when it is short enough to encode whole.
 */
export function boundText(tok: BoundTokenizer, text: string, keep: number, side: 'start' | 'end'): string {
  const cut = side === 'start' ? headOf : tailOf;
  const ends = side === 'start' ? first : last;
  // Two tokens of margin: the cut changes at most the pre-token it falls in, which the check confirms.
  for (let limit = (keep + 2) * tok.maxTokenBytes; limit < text.length; limit *= 2) {
    const short = cut(text, limit);
    if (2 * limit >= text.length) return same(ends(tok.encode(short), keep), ends(tok.encode(text), keep)) ? short : text;
    if (same(ends(tok.encode(short), keep), ends(tok.encode(cut(text, 2 * limit)), keep))) return short;
  }
  return text;
}

/** The prompt's messages with their texts cut where the kept end of the prompt cannot reach. */
function boundPrompt(tok: BoundTokenizer, prompt: Message[], limits: TokenLimits): Message[] {
  return prompt.map((m) => (typeof m?.content === 'string' ? { ...m, content: boundText(tok, m.content, limits.maxPromptTokens, 'end') } : m));
}

function boundResponse(tok: BoundTokenizer, m: Message, limits: TokenLimits): Message {
  return typeof m?.content === 'string' ? { ...m, content: boundText(tok, m.content, limits.maxResponseTokens, 'start') } : m;
}

/** An SFT row whose texts are cut to what tokenization can keep; malformed rows pass through for collate to reject. */
export function boundSftRow(tok: BoundTokenizer, row: SftRow, limits: TokenLimits): SftRow {
  if (!row || typeof row !== 'object') return row;
  if ('text' in row) return typeof row.text === 'string' ? { ...row, text: boundText(tok, row.text, limits.maxPromptTokens + limits.maxResponseTokens, 'start') } : row;
  if ('messages' in row && Array.isArray(row.messages) && row.messages.length > 0) {
    const prompt = row.messages.slice(0, -1);
    return { ...row, messages: [...boundPrompt(tok, prompt, limits), boundResponse(tok, row.messages[row.messages.length - 1]!, limits)] };
  }
  if ('prompt' in row && Array.isArray(row.prompt) && 'completion' in row && Array.isArray(row.completion))
    return { ...row, prompt: boundPrompt(tok, row.prompt, limits), completion: row.completion.map((m) => boundResponse(tok, m, limits)) };
  return row;
}

export function boundPairRow<T extends PairRow>(tok: BoundTokenizer, row: T, limits: TokenLimits): T {
  if (!row || typeof row !== 'object') return row;
  const side = (msgs: Message[]) => (Array.isArray(msgs) && msgs.length > 0 ? [...msgs.slice(0, -1), boundResponse(tok, msgs[msgs.length - 1]!, limits)] : msgs);
  return { ...row, prompt: Array.isArray(row.prompt) ? boundPrompt(tok, row.prompt, limits) : row.prompt, chosen: side(row.chosen), rejected: side(row.rejected) };
}

// Claude as a reward model (MT-Bench-style single-answer grading and AlpacaEval-style pairwise
// comparison). The prompts below are fixed: changing them changes every judged number, so they are
// part of the method and are written into summary.json by name and hash.
import { sha256 } from '../../util/hash.js';
import type { EvalItem } from '../types.js';
import { MAX_RATING, MIN_RATING, ratingToScore, type Comparison, type Judge, type JudgeInput, type Preference, type Rating } from './types.js';

/** What the judge needs from a Claude client (which knows its model); caching and retries are the client's job. */
export interface ChatClient {
  complete(request: ChatRequest): Promise<string>;
}

export interface ChatRequest {
  system: string;
  user: string;
  maxTokens: number;
  temperature: number;
}

export const SINGLE_SYSTEM = `You grade answers written by a small language model. Be impartial and strict.
Rate the response on this fixed 1-10 scale:
10: the final answer is correct and the reasoning is complete, correct and clearly presented.
7-9: the final answer is correct; minor gaps or clumsy presentation in the reasoning.
4-6: partly correct: a correct approach with a wrong final answer, or a correct final answer with wrong reasoning.
2-3: mostly wrong, but with some relevant correct steps.
1: wrong, empty, irrelevant or unreadable.
When a reference answer is given, a response whose final answer differs from it cannot be rated above 6.
When the prompt asks for a format (sections, a list, a word limit), following it is part of correctness.
Explain your judgement in at most three sentences, then write the rating alone on the last line in double brackets, for example: [[6]]`;

export const PAIRWISE_SYSTEM = `You compare two responses to the same prompt, written by small language models. Be impartial.
Decide which response answers the prompt better: correctness of the final answer first, then the soundness of the reasoning, then following the requested format and clarity.
The order in which the responses are shown, their length and their style must not influence you.
When a reference answer is given, use it to decide correctness.
Explain your judgement in at most three sentences, then write your verdict alone on the last line: [[A]] if Response A is better, [[B]] if Response B is better, [[C]] if they are equally good or equally bad.`;

/** Identifies the prompt version in summary.json. */
export const JUDGE_PROMPT_HASH = sha256(SINGLE_SYSTEM + '\n---\n' + PAIRWISE_SYSTEM).slice(0, 12);

export function promptText(item: EvalItem): string {
  return item.prompt
    .filter((m) => m.role !== 'assistant')
    .map((m) => (m.role === 'system' ? `(system) ${m.content}` : m.content))
    .join('\n\n');
}

function referenceBlock(item: EvalItem): string {
  if (item.countdown) {
    return `[Reference]\nAny expression that uses each of ${item.countdown.nums.join(', ')} exactly once with + - * / and equals ${item.countdown.target} is correct.\n\n`;
  }
  return item.groundTruth !== undefined ? `[Reference answer]\n${item.groundTruth}\n\n` : '';
}

export function singleUserPrompt(item: EvalItem, response: string): string {
  return `[Prompt]\n${promptText(item)}\n\n${referenceBlock(item)}[Response]\n${response}\n[End of response]`;
}

export function pairwiseUserPrompt(item: EvalItem, a: string, b: string): string {
  return `[Prompt]\n${promptText(item)}\n\n${referenceBlock(item)}[Response A]\n${a}\n[End of response A]\n\n[Response B]\n${b}\n[End of response B]`;
}

/** The last [[N]] with 1 <= N <= 10 (decimals allowed); null when there is none. */
export function parseRating(text: string): number | null {
  let found: number | null = null;
  for (const m of text.matchAll(/\[\[\s*(\d+(?:\.\d+)?)\s*\]\]/g)) {
    const n = Number(m[1]);
    if (n >= MIN_RATING && n <= MAX_RATING) found = n;
  }
  return found;
}

/** The last [[A]], [[B]] or [[C]] (tie); null when there is none. */
export function parsePreference(text: string): Preference | null {
  let found: Preference | null = null;
  for (const m of text.matchAll(/\[\[\s*([ABC])\s*\]\]/g)) found = m[1] === 'A' ? 'first' : m[1] === 'B' ? 'second' : 'tie';
  return found;
}

export class ClaudeJudge implements Judge {
  readonly name: string;

  /** `model` names the judge in every result; it must be the model the client sends requests to. */
  constructor(
    private readonly client: ChatClient,
    model: string,
    private readonly maxTokens = 400,
  ) {
    this.name = `claude:${model}`;
  }

  async rate(input: JudgeInput): Promise<Rating> {
    const reply = await this.ask(SINGLE_SYSTEM, singleUserPrompt(input.item, input.response));
    if ('error' in reply) return { rating: null, score: null, error: reply.error };
    const rating = parseRating(reply.text);
    if (rating === null) return { rating: null, score: null, error: `no [[1-10]] rating in the reply: ${tail(reply.text)}` };
    return { rating, score: ratingToScore(rating) };
  }

  async compare(item: EvalItem, first: JudgeInput, second: JudgeInput): Promise<Comparison> {
    const reply = await this.ask(PAIRWISE_SYSTEM, pairwiseUserPrompt(item, first.response, second.response));
    if ('error' in reply) return { preference: null, error: reply.error };
    const preference = parsePreference(reply.text);
    return preference ? { preference } : { preference: null, error: `no [[A]]/[[B]]/[[C]] verdict in the reply: ${tail(reply.text)}` };
  }

  /** A failed call (after the client's retries) is recorded on the response, not thrown: one bad item must not lose a run. */
  private async ask(system: string, user: string): Promise<{ text: string } | { error: string }> {
    try {
      return { text: await this.client.complete({ system, user, maxTokens: this.maxTokens, temperature: 0 }) };
    } catch (e) {
      // A refused key or a silent server would fail every item: that one stops the evaluation.
      if ((e as { fatal?: boolean }).fatal) throw e;
      return { error: `judge request failed: ${(e as Error).message}` };
    }
  }
}

function tail(text: string): string {
  const t = text.trim();
  return JSON.stringify(t.length > 80 ? '...' + t.slice(-77) : t);
}

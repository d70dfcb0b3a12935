// A judge rates one response (1-10, rescaled to 0-1) and compares two responses to the same prompt.
import type { EvalItem, ResponseVerdict } from '../types.js';

export interface JudgeInput {
  item: EvalItem;
  response: string;
  verdict: ResponseVerdict;
}

export interface Rating {
  /** 1-10; null when the judge gave no readable rating. */
  rating: number | null;
  /** (rating - 1) / 9, so 1 -> 0 and 10 -> 1. */
  score: number | null;
  error?: string;
}

export type Preference = 'first' | 'second' | 'tie';

export interface Comparison {
  preference: Preference | null;
  error?: string;
}

export interface Judge {
  /** Written next to every number it produced: 'offline-rubric' or 'claude:<model>'. */
  readonly name: string;
  rate(input: JudgeInput): Promise<Rating>;
  compare(item: EvalItem, first: JudgeInput, second: JudgeInput): Promise<Comparison>;
}

export const MIN_RATING = 1;
export const MAX_RATING = 10;

export function ratingToScore(rating: number): number {
  return (rating - MIN_RATING) / (MAX_RATING - MIN_RATING);
}

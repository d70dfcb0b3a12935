// The offline rubric judge, used when no Anthropic key is set. Deterministic, no network.
//
// Rubric (correctness first, then format):
//   correctness c: the item's checkable verdict (finalCorrect: the <answer> section, or the whole response
//                  when it has none, against the ground truth; Countdown by TinyZero's rule; instruction
//                  items by their checker). Unknown when the item has nothing to check against.
//   format f in [0, 1]:
//     trace items       (lenient + strict + logicValid + codeRuns) / 4 (codeCompiles when code was not run)
//     instruction items (finished, i.e. not cut at the token limit) / 2 + (no section tags) / 2
//   rating (1-10) = 1 + 6c + round(3f) when c is known (correct: 7-10, wrong: 1-4), else 1 + round(9f).
//   score = (rating - 1) / 9.
//   pairwise: the higher (c, f) wins, compared lexicographically; equal (c, f) is a tie.
import { ratingToScore, type Comparison, type Judge, type JudgeInput, type Rating } from './types.js';

interface RubricPoints {
  correct: boolean | null;
  format: number;
}

export function rubricPoints(input: JudgeInput): RubricPoints {
  const v = input.verdict;
  let format: number;
  if (v.kind === 'instruction') {
    const finished = v.finishReason !== 'length';
    const plain = !v.tags.cot && !v.tags.logic && !v.tags.code && !v.tags.answer;
    format = (finished ? 0.5 : 0) + (plain ? 0.5 : 0);
  } else {
    const code = v.codeRuns ?? v.codeCompiles ?? false;
    format = [v.lenient, v.strict, v.logicValid, code].filter(Boolean).length / 4;
  }
  return { correct: v.finalCorrect, format };
}

export function rubricRating(points: RubricPoints): number {
  if (points.correct === null) return 1 + Math.round(9 * points.format);
  return 1 + (points.correct ? 6 : 0) + Math.round(3 * points.format);
}

export class OfflineRubricJudge implements Judge {
  readonly name = 'offline-rubric';

  async rate(input: JudgeInput): Promise<Rating> {
    const rating = rubricRating(rubricPoints(input));
    return { rating, score: ratingToScore(rating) };
  }

  async compare(_item: unknown, first: JudgeInput, second: JudgeInput): Promise<Comparison> {
    const a = rubricPoints(first);
    const b = rubricPoints(second);
    const ca = a.correct === true ? 1 : 0;
    const cb = b.correct === true ? 1 : 0;
    if (ca !== cb) return { preference: ca > cb ? 'first' : 'second' };
    if (a.format !== b.format) return { preference: a.format > b.format ? 'first' : 'second' };
    return { preference: 'tie' };
  }
}

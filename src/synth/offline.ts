// The offline teacher: seeded problems from the families, each with a unified trace, a CoT-only
// response and a direct answer. Same seed and options, same bytes.
import { renderTrace } from '../trace/render.js';
import { sha256 } from '../util/hash.js';
import { distinctRoundRobin } from '../util/distinct.js';
import { FAMILY_NAMES, getFamily } from './families/index.js';
import type { Problem, ProblemSpec } from './types.js';

export function buildProblem(family: string, spec: ProblemSpec): Problem {
  const trace = renderTrace({
    cot: spec.plan,
    logic: spec.logic.join('\n'),
    code: spec.code.join('\n'),
    answer: spec.answer,
  });
  return {
    ...spec,
    id: `${family}-${sha256(spec.question).slice(0, 12)}`,
    family,
    trace,
    cotResponse: `${spec.plan} ${spec.steps.join(' ')}\nSo the answer is: ${spec.answer}`,
    direct: spec.answer,
  };
}

export interface GenerateOptions {
  seed: number;
  count: number;
  /** Families to draw from, round-robin (default: all). */
  families?: readonly string[];
  /** Questions never to produce (e.g. held-out prompts when generating training data). */
  exclude?: ReadonlySet<string>;
  /** Stream label so different uses of one seed (train, eval) get different problems. */
  stream?: string;
}

/**
 * `count` distinct problems, families taken in turn. Each family has its own random stream, so adding a
 * family or changing the count does not change the problems the others produce.
 */
export function generateProblems(opts: GenerateOptions): Problem[] {
  const names = opts.families && opts.families.length ? opts.families : FAMILY_NAMES;
  return distinctRoundRobin<ProblemSpec>({
    seed: opts.seed,
    stream: opts.stream ?? 'synth',
    count: opts.count,
    generators: names.map(getFamily).map((f) => ({ name: f.name, make: (rng) => f.generate(rng) })),
    key: (spec) => spec.question,
    exclude: opts.exclude,
    tries: 200,
    describe: (family) => [`family "${family}"`, 'problem'],
  }).map(({ name, item }) => buildProblem(name, item));
}

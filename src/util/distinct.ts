// Distinct generated items, generators taken in turn: what problem families and instruction kinds share.
// Each generator draws from its own random stream (forked from the seed by `stream:name`), so adding a
// generator or changing the count does not change what the others produce.
import { Rng } from './rng.js';

export interface RoundRobinOptions<T> {
  seed: number;
  /** Stream label, so different uses of one seed (train, eval) get different items. */
  stream: string;
  count: number;
  generators: readonly { name: string; make(rng: Rng): T }[];
  /** What makes two items the same (a question, a prompt). */
  key(item: T): string;
  /** Keys never to produce (held-out items). */
  exclude?: ReadonlySet<string>;
  /** Draws per item before giving up on a generator. */
  tries: number;
  /** Names a generator and its items in the give-up error, e.g. ['family "dates"', 'problem']. */
  describe(name: string): [generator: string, item: string];
}

/** `count` items with distinct keys, each with the name of the generator that made it. */
export function distinctRoundRobin<T>(o: RoundRobinOptions<T>): { name: string; item: T }[] {
  const root = new Rng(o.seed);
  const streams = o.generators.map((g) => root.fork(`${o.stream}:${g.name}`));
  const seen = new Set(o.exclude ?? []);
  const out: { name: string; item: T }[] = [];
  for (let i = 0; i < o.count; i++) {
    const k = i % o.generators.length;
    const gen = o.generators[k]!;
    let made: T | null = null;
    for (let attempt = 0; attempt < o.tries && made === null; attempt++) {
      const m = gen.make(streams[k]!);
      if (!seen.has(o.key(m))) made = m;
    }
    if (made === null) {
      const [generator, item] = o.describe(gen.name);
      throw new Error(`${generator} produced no new ${item} in ${o.tries} tries (seed ${o.seed}, ${i} made)`);
    }
    seen.add(o.key(made));
    out.push({ name: gen.name, item: made });
  }
  return out;
}

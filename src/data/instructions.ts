// The embedded instruction set: project-written general tasks with checkable answers, a small
// stand-in for UltraFeedback that needs no download. Each kind is a seeded generator.
import { sha256 } from '../util/hash.js';
import { distinctRoundRobin } from '../util/distinct.js';
import type { Rng } from '../util/rng.js';
import { NAMES } from '../synth/families/util.js';
import type { InstructionCheck } from './checks.js';

export interface InstructionItem {
  id: string;
  kind: string;
  prompt: string;
  response: string;
  check: InstructionCheck;
}

type Made = Omit<InstructionItem, 'id' | 'kind'>;

const WORDS = [
  'river', 'lantern', 'copper', 'meadow', 'violin', 'harbor', 'pepper', 'glacier', 'orchid', 'canvas', 'saddle',
  'tunnel', 'marble', 'falcon', 'quartz', 'ribbon', 'thunder', 'walnut', 'compass', 'blanket', 'cactus', 'dolphin',
  'engine', 'feather', 'garden', 'helmet', 'island', 'jacket', 'kettle', 'ladder', 'magnet', 'needle', 'oyster',
  'pillow', 'rocket', 'silver', 'teapot', 'umbrella', 'velvet', 'window', 'yogurt', 'zipper', 'anchor', 'bridge',
  'candle', 'desert', 'forest', 'guitar', 'hammer', 'insect', 'jungle', 'kitten', 'lemon', 'mirror', 'napkin',
  'orange', 'puzzle', 'rabbit', 'spider', 'tomato', 'valley', 'wallet', 'basket', 'carpet', 'donkey', 'button',
];
const CATEGORIES: Record<string, string[]> = {
  fruit: ['apple', 'mango', 'cherry', 'banana', 'peach', 'plum', 'kiwi', 'grape', 'papaya', 'lime', 'pear', 'apricot'],
  vegetable: ['carrot', 'spinach', 'onion', 'potato', 'celery', 'cabbage', 'lettuce', 'radish', 'leek', 'turnip', 'beet'],
  animal: ['otter', 'tiger', 'camel', 'beaver', 'lizard', 'moose', 'panda', 'walrus', 'badger', 'zebra', 'ferret'],
  tool: ['wrench', 'chisel', 'pliers', 'screwdriver', 'saw', 'drill', 'trowel', 'mallet', 'file', 'clamp'],
};
const CITIES = ['Lisbon', 'Nairobi', 'Osaka', 'Lima', 'Oslo', 'Cairo', 'Hanoi', 'Quito', 'Dublin', 'Perth', 'Seville', 'Tbilisi', 'Accra', 'Montreal'];
const DOMAINS = ['example.com', 'mail.org', 'post.net', 'inbox.io', 'work.co'];
const POSITIVE = ['wonderful', 'excellent', 'delightful', 'superb', 'fantastic', 'lovely', 'great', 'charming'];
const NEGATIVE = ['terrible', 'awful', 'disappointing', 'dreadful', 'poor', 'horrible', 'bland', 'rude'];
const SUBJECTS = ['food', 'service', 'room', 'staff', 'movie', 'plot', 'battery', 'screen', 'delivery', 'music', 'coffee', 'view'];
const PLACES = ['restaurant', 'hotel', 'phone', 'concert', 'cafe', 'film', 'laptop', 'shop'];
const PHRASES = [
  'portable network graphics', 'central processing unit', 'random access memory', 'as soon as possible',
  'frequently asked questions', 'graphical user interface', 'do it yourself', 'for your information',
  'united nations', 'world health organization', 'light emitting diode', 'global positioning system',
  'search engine optimization', 'point of sale', 'customer relationship management', 'return on investment',
];

function words(rng: Rng, n: number): string[] {
  return rng.shuffle(WORDS).slice(0, n);
}

const kinds: Record<string, (rng: Rng) => Made> = {
  'format-list': (rng) => {
    const items = words(rng, rng.int(3, 7));
    const sorted = items.slice().sort();
    return {
      prompt: rng.pick([
        `Turn these items into one comma-separated line in alphabetical order: ${items.join('; ')}`,
        `Sort alphabetically and join with commas: ${items.join(' / ')}`,
      ]),
      response: sorted.join(', '),
      check: { type: 'list', value: sorted, ordered: true, separator: ',' },
    };
  },
  'format-json': (rng) => {
    const name = rng.pick(NAMES);
    const city = rng.pick(CITIES);
    const age = rng.int(18, 90);
    const value = { name, city, age };
    return {
      prompt: rng.pick([
        `Write a JSON object with the keys "name", "city" and "age" for this person: ${name}, ${age} years old, lives in ${city}.`,
        `${name} is ${age} and lives in ${city}. Return only a JSON object with keys name, city, age.`,
      ]),
      response: JSON.stringify(value),
      check: { type: 'json', value },
    };
  },
  'extract-emails': (rng) => {
    const people = rng.shuffle(NAMES).slice(0, rng.int(1, 3));
    const emails = people.map((p) => `${p.toLowerCase()}@${rng.pick(DOMAINS)}`);
    const filler = words(rng, 3);
    const sentence = emails.map((e, i) => `${i === 0 ? 'Write to' : 'or'} ${e}`).join(' ');
    return {
      prompt: `Extract every email address from the text, one per line.\nText: About the ${filler[0]} and the ${filler[1]}: ${sentence} before the ${filler[2]} sale ends.`,
      response: emails.join('\n'),
      check: { type: 'list', value: emails, ordered: false, separator: '\n' },
    };
  },
  'classify-sentiment': (rng) => {
    const positive = rng.next() < 0.5;
    const adj = positive ? POSITIVE : NEGATIVE;
    const [s1, s2] = rng.shuffle(SUBJECTS);
    const review = `The ${s1} at this ${rng.pick(PLACES)} was ${rng.pick(adj)} and the ${s2} was ${rng.pick(adj)}.`;
    const label = positive ? 'positive' : 'negative';
    return {
      prompt: rng.pick([
        `Classify the sentiment of this review as positive or negative.\nReview: ${review}`,
        `Is the following review positive or negative? Answer with one word.\n"${review}"`,
      ]),
      response: label,
      check: { type: 'label', value: label, options: ['positive', 'negative'] },
    };
  },
  'classify-category': (rng) => {
    const cats = Object.keys(CATEGORIES);
    const cat = rng.pick(cats);
    const word = rng.pick(CATEGORIES[cat]!);
    const options = rng.shuffle(cats);
    return {
      prompt: `Which category does "${word}" belong to: ${options.join(', ')}? Answer with the category only.`,
      response: cat,
      check: { type: 'label', value: cat, options: cats },
    };
  },
  rewrite: (rng) => {
    const ws = words(rng, rng.int(3, 6));
    const sentence = ws.join(' ');
    const mode = rng.int(0, 3);
    if (mode === 0) {
      return { prompt: `Rewrite in upper case: ${sentence}`, response: sentence.toUpperCase(), check: { type: 'exact', value: sentence.toUpperCase(), caseSensitive: true } };
    }
    if (mode === 1) {
      const out = ws.slice().reverse().join(' ');
      return { prompt: `Reverse the order of the words: ${sentence}`, response: out, check: { type: 'exact', value: out, caseSensitive: true } };
    }
    if (mode === 2) {
      const out = ws.map((w) => w[0]!.toUpperCase() + w.slice(1)).join(' ');
      return { prompt: `Write these words in title case: ${sentence}`, response: out, check: { type: 'exact', value: out, caseSensitive: true } };
    }
    const phrase = rng.pick(PHRASES);
    const acronym = phrase.split(' ').map((w) => w[0]!.toUpperCase()).join('');
    return {
      prompt: rng.pick([`Give the acronym for "${phrase}".`, `What are the initials of "${phrase}" written as one upper-case acronym?`]),
      response: acronym,
      check: { type: 'exact', value: acronym, caseSensitive: true },
    };
  },
  count: (rng) => {
    const mode = rng.int(0, 2);
    if (mode === 0) {
      const ws = words(rng, rng.int(3, 12));
      return { prompt: `How many words are in this sentence? "${ws.join(' ')}"`, response: String(ws.length), check: { type: 'number', value: ws.length } };
    }
    if (mode === 1) {
      const w = rng.pick(WORDS);
      const letter = rng.pick(w.split(''));
      const n = w.split('').filter((c) => c === letter).length;
      return { prompt: `How many times does the letter "${letter}" appear in the word "${w}"?`, response: String(n), check: { type: 'number', value: n } };
    }
    const cat = rng.pick(Object.keys(CATEGORIES));
    const others = Object.keys(CATEGORIES).filter((c) => c !== cat).flatMap((c) => CATEGORIES[c]!);
    const hits = rng.shuffle(CATEGORIES[cat]!).slice(0, rng.int(1, 5));
    const list = rng.shuffle([...hits, ...rng.shuffle(others).slice(0, rng.int(1, 5))]);
    return {
      prompt: `How many of these are a ${cat}? ${list.join(', ')}`,
      response: String(hits.length),
      check: { type: 'number', value: hits.length },
    };
  },
  'sort-numbers': (rng) => {
    const nums = Array.from({ length: rng.int(4, 8) }, () => rng.int(-50, 500));
    const desc = rng.next() < 0.5;
    const sorted = nums.slice().sort((a, b) => (desc ? b - a : a - b)).map(String);
    return {
      prompt: `Sort these numbers from ${desc ? 'largest to smallest' : 'smallest to largest'}, separated by commas: ${nums.join(' ')}`,
      response: sorted.join(', '),
      check: { type: 'list', value: sorted, ordered: true, separator: ',' },
    };
  },
};

export const INSTRUCTION_KINDS: readonly string[] = Object.keys(kinds);

export interface InstructionOptions {
  seed: number;
  count: number;
  /** Prompts never to produce (held-out items). */
  exclude?: ReadonlySet<string>;
  stream?: string;
}

/** `count` distinct instruction items, kinds taken in turn, each kind with its own random stream. */
export function generateInstructions(opts: InstructionOptions): InstructionItem[] {
  return distinctRoundRobin<Made>({
    seed: opts.seed,
    stream: opts.stream ?? 'instructions',
    count: opts.count,
    generators: INSTRUCTION_KINDS.map((kind) => ({ name: kind, make: kinds[kind]! })),
    key: (m) => m.prompt,
    exclude: opts.exclude,
    tries: 500,
    describe: (kind) => [`instruction kind "${kind}"`, 'prompt'],
  }).map(({ name, item }) => ({ id: `instr-${sha256(item.prompt).slice(0, 12)}`, kind: name, ...item }));
}

// Finding the four sections in arbitrary model output. One regex pass collects every section tag,
// then one left-to-right walk pairs them, so the cost stays linear in the text length however messy it is.

export const SECTION_NAMES = ['cot', 'logic', 'code', 'answer'] as const;
export type SectionName = (typeof SECTION_NAMES)[number];

/** One `<name>` or `</name>` occurrence; `raw` keeps the original case. */
export interface TagToken {
  name: SectionName;
  close: boolean;
  raw: string;
  start: number;
  end: number;
}

/** A matched pair: content is the text between the tags, untrimmed. */
export interface Section {
  name: SectionName;
  content: string;
  /** Offsets of the opening tag's start and the closing tag's end. */
  start: number;
  end: number;
  /** Other section tags found inside (e.g. `<answer>` printed by the code). */
  nestedTags: number;
}

export interface ParsedTrace {
  text: string;
  tokens: TagToken[];
  /** Every matched section, in text order. */
  all: Section[];
  /** The first matched section of each name. */
  sections: Partial<Record<SectionName, Section>>;
  /** How many matched sections of each name were found (more than 1 = repeated). */
  counts: Record<SectionName, number>;
  /** Opening tags with no closing tag of the same name anywhere after them. */
  unclosed: TagToken[];
  /** Closing tags that close nothing. */
  strayCloses: TagToken[];
}

const TAG_RE = /<(\/?)(cot|logic|code|answer)>/gi;

export function tokenize(text: string): TagToken[] {
  const tokens: TagToken[] = [];
  for (const m of text.matchAll(TAG_RE)) {
    tokens.push({
      name: m[2]!.toLowerCase() as SectionName,
      close: m[1] === '/',
      raw: m[0],
      start: m.index!,
      end: m.index! + m[0].length,
    });
  }
  return tokens;
}

const zeroCounts = (): Record<SectionName, number> => ({ cot: 0, logic: 0, code: 0, answer: 0 });

/**
 * Pairs tags: an opening tag starts a section that ends at the next closing tag of the same name
 * (case-insensitive); tags in between are content (code may print `<answer>`). An opening tag with no
 * closing tag after it is reported as unclosed and skipped, so later sections are still found.
 */
export function parseTrace(text: string): ParsedTrace {
  const tokens = tokenize(text);
  // nextClose[i]: index of the first closing token of tokens[i].name at or after i (-1 if none).
  const nextClose = new Int32Array(tokens.length);
  const upcoming: Record<SectionName, number> = { cot: -1, logic: -1, code: -1, answer: -1 };
  for (let i = tokens.length - 1; i >= 0; i--) {
    const t = tokens[i]!;
    if (t.close) upcoming[t.name] = i;
    nextClose[i] = upcoming[t.name];
  }
  const all: Section[] = [];
  const sections: Partial<Record<SectionName, Section>> = {};
  const counts = zeroCounts();
  const unclosed: TagToken[] = [];
  const strayCloses: TagToken[] = [];
  let i = 0;
  while (i < tokens.length) {
    const open = tokens[i]!;
    if (open.close) {
      strayCloses.push(open);
      i++;
      continue;
    }
    const j = nextClose[i]!;
    if (j < 0) {
      unclosed.push(open);
      i++;
      continue;
    }
    const close = tokens[j]!;
    const section: Section = {
      name: open.name,
      content: text.slice(open.end, close.start),
      start: open.start,
      end: close.end,
      nestedTags: j - i - 1,
    };
    all.push(section);
    counts[open.name]++;
    sections[open.name] ??= section;
    i = j + 1;
  }
  return { text, tokens, all, sections, counts, unclosed, strayCloses };
}

/**
 * present(tag): a matched `<tag>...</tag>` pair exists, names compared case-insensitively, i.e. some
 * opening tag comes before some closing tag of the same name.
 */
export function presentTags(tokens: readonly TagToken[]): Record<SectionName, boolean> {
  const firstOpen: Record<SectionName, number> = { cot: Infinity, logic: Infinity, code: Infinity, answer: Infinity };
  const lastClose: Record<SectionName, number> = { cot: -1, logic: -1, code: -1, answer: -1 };
  for (const t of tokens) {
    if (t.close) lastClose[t.name] = t.start;
    else if (t.start < firstOpen[t.name]) firstOpen[t.name] = t.start;
  }
  const out = { cot: false, logic: false, code: false, answer: false };
  for (const n of SECTION_NAMES) out[n] = firstOpen[n] < lastClose[n];
  return out;
}

export function present(text: string, tag: SectionName): boolean {
  return presentTags(tokenize(text))[tag];
}

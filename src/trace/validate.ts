// The format verdicts every stage uses, exactly as defined in issue #2: present(tag), strict, lenient,
// logicValid. Code verdicts (codeCompiles, codeRuns) need the sandbox and live in execute.ts.
import { parseTrace, presentTags, SECTION_NAMES, tokenize, type ParsedTrace, type SectionName } from './sections.js';

export interface FormatVerdict {
  strict: boolean;
  lenient: boolean;
  tags: Record<SectionName, boolean>;
  logicValid: boolean;
  /** Why a check failed, or what looked wrong (unclosed, repeated, nested tags), in plain words. */
  errors: string[];
  parsed: ParsedTrace;
}

export interface Check {
  ok: boolean;
  reason?: string;
}

const END_MARKERS = ['<|im_end|>', '<|endoftext|>'];

/** The text strict mode looks at: outer whitespace and one trailing end-of-turn marker removed. */
export function stripForStrict(text: string): string {
  let t = text.trim();
  for (const m of END_MARKERS) {
    if (t.endsWith(m)) {
      t = t.slice(0, -m.length).trim();
      break;
    }
  }
  return t;
}

/**
 * strict: exactly `<cot>A</cot>`, `<logic>B</logic>`, `<code>C</code>`, `<answer>D</answer>` in that order,
 * lowercase tags, only whitespace between them, each part non-empty after trimming with no section tag inside.
 */
export function checkStrict(text: string): Check {
  const t = stripForStrict(text);
  const tokens = tokenize(t);
  const fail = (reason: string): Check => ({ ok: false, reason: `not strict: ${reason}` });
  for (let k = 0; k < Math.min(tokens.length, 8); k++) {
    const name = SECTION_NAMES[k >> 1]!;
    const close = (k & 1) === 1;
    const want = close ? `</${name}>` : `<${name}>`;
    const tok = tokens[k]!;
    if (tok.raw !== want) {
      // Any other section tag before the expected closing tag sits inside the part.
      if (close && !(tok.close && tok.name === name)) return fail(`<${name}> contains the section tag ${tok.raw}`);
      return fail(`section tag ${k + 1} is ${tok.raw}, expected ${want}`);
    }
    if (close) {
      if (t.slice(tokens[k - 1]!.end, tok.start).trim() === '') return fail(`<${name}> is empty`);
    } else {
      const gap = t.slice(k === 0 ? 0 : tokens[k - 1]!.end, tok.start);
      if (gap.trim() !== '') return fail(k === 0 ? 'text before <cot>' : `text between ${tokens[k - 1]!.raw} and ${want}`);
    }
  }
  if (tokens.length < 8) {
    const k = tokens.length;
    return fail(`missing ${(k & 1) === 1 ? `</${SECTION_NAMES[k >> 1]}>` : `<${SECTION_NAMES[k >> 1]}>`}`);
  }
  if (tokens.length > 8) return fail(`extra section tag ${tokens[8]!.raw} after </answer>`);
  if (tokens[7]!.end !== t.length) return fail('text after </answer>');
  return { ok: true };
}

const LOGIC_LINE = /^(DEFINE|GIVEN|REQUIRE|IMPLIES):(.*)$/;

/**
 * logicValid on a logic section's content: at least one non-empty line, and every non-empty line, trimmed,
 * is `KEYWORD: body` (DEFINE, GIVEN, REQUIRE, IMPLIES, upper case) with a non-empty body.
 */
export function checkLogic(content: string | undefined): Check {
  if (content === undefined) return { ok: false, reason: 'logic invalid: no <logic> section' };
  let lines = 0;
  let lineNo = 0;
  for (const raw of content.split(/\r\n|\r|\n/)) {
    lineNo++;
    const line = raw.trim();
    if (line === '') continue;
    lines++;
    const m = LOGIC_LINE.exec(line);
    if (!m) return { ok: false, reason: `logic invalid: line ${lineNo} is not KEYWORD: body (${preview(line)})` };
    if (m[2]!.trim() === '') return { ok: false, reason: `logic invalid: line ${lineNo} has an empty body (${m[1]}:)` };
  }
  if (lines === 0) return { ok: false, reason: 'logic invalid: <logic> has no non-empty line' };
  return { ok: true };
}

export function isStrict(text: string): boolean {
  return checkStrict(text).ok;
}

export function isLenient(text: string): boolean {
  const tags = presentTags(tokenize(text));
  return SECTION_NAMES.every((n) => tags[n]);
}

export function isLogicValid(text: string): boolean {
  return checkLogic(parseTrace(text).sections.logic?.content).ok;
}

/** All format verdicts for one output. Never throws: a non-string input is a verdict with an error. */
export function validateFormat(text: unknown): FormatVerdict {
  if (typeof text !== 'string') {
    const parsed = parseTrace('');
    const tags = { cot: false, logic: false, code: false, answer: false };
    const kind = text === null ? 'null' : Array.isArray(text) ? 'an array' : typeof text;
    return { strict: false, lenient: false, tags, logicValid: false, errors: [`output is ${kind}, not a string`], parsed };
  }
  const parsed = parseTrace(text);
  const tags = presentTags(parsed.tokens);
  const errors: string[] = [];
  const strict = checkStrict(text);
  if (!strict.ok) errors.push(strict.reason!);
  const missing = SECTION_NAMES.filter((n) => !tags[n]);
  if (missing.length) errors.push(`not lenient: missing ${missing.map((n) => `<${n}>...</${n}>`).join(', ')}`);
  const logic = checkLogic(parsed.sections.logic?.content);
  if (!logic.ok) errors.push(logic.reason!);
  for (const t of parsed.unclosed.slice(0, 3)) errors.push(`unclosed ${t.raw} at offset ${t.start}`);
  for (const t of parsed.strayCloses.slice(0, 3)) errors.push(`stray ${t.raw} at offset ${t.start}`);
  for (const n of SECTION_NAMES) if (parsed.counts[n] > 1) errors.push(`<${n}> appears ${parsed.counts[n]} times (the first is used)`);
  return { strict: strict.ok, lenient: missing.length === 0, tags, logicValid: logic.ok, errors, parsed };
}

function preview(s: string): string {
  return JSON.stringify(s.length > 60 ? s.slice(0, 57) + '...' : s);
}

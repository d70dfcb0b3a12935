// Rendering a unified trace from its four parts, laid out as the paper's Figure 1.
import { extractPython } from './code.js';
import { SECTION_NAMES, tokenize, type SectionName } from './sections.js';

export interface TraceParts {
  cot: string;
  logic: string;
  /** Python source, with or without a ```python fence. */
  code: string;
  answer: string;
}

export class TraceRenderError extends Error {
  constructor(
    readonly part: SectionName,
    reason: string,
  ) {
    super(`trace part "${part}": ${reason}`);
    this.name = 'TraceRenderError';
  }
}

/**
 * `<cot>\n...\n</cot>\n\n<logic>...` with the code inside a ```python fence. Throws when a part is empty
 * or contains a section tag, because the result would not be a strict trace.
 */
export function renderTrace(parts: TraceParts): string {
  const body: Record<SectionName, string> = {
    cot: parts.cot.trim(),
    logic: parts.logic.trim(),
    code: '```python\n' + extractPython(parts.code) + '```',
    answer: parts.answer.trim(),
  };
  for (const name of SECTION_NAMES) {
    const raw = parts[name];
    if (typeof raw !== 'string' || raw.trim() === '') throw new TraceRenderError(name, 'is empty');
    const tag = tokenize(raw)[0];
    if (tag) throw new TraceRenderError(name, `contains the section tag ${tag.raw}`);
  }
  return SECTION_NAMES.map((n) => `<${n}>\n${body[n]}\n</${n}>`).join('\n\n');
}

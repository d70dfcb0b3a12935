// The Python inside a <code> section: an optional ```python / ```py / bare ``` fence is removed.

const OPEN_FENCE = /^```[ \t]*(python3?|py)?[ \t]*(?:\r?\n|$)/i;

/** Returns the program text of a code section (fence removed, CRLF normalised, common indent removed). */
export function extractPython(section: string): string {
  // Leading blank lines go, but not the first line's indentation (dedent needs it).
  let code = section.replace(/\r\n?/g, '\n').replace(/^(?:[ \t]*\n)+/, '').trimEnd();
  if (code.trimStart().startsWith('```')) code = code.trimStart();
  const open = OPEN_FENCE.exec(code);
  if (open) {
    code = code.slice(open[0].length);
    const close = code.lastIndexOf('```');
    // Only a fence on its own line closes the block; a missing one means the model stopped early.
    if (close >= 0 && code.slice(close + 3).trim() === '' && /(^|\n)[ \t]*$/.test(code.slice(0, close))) {
      code = code.slice(0, close);
    }
  }
  return dedent(code).replace(/\s+$/, '') + '\n';
}

/** True when the section starts with a fence whose language is not Python (e.g. ```js). */
export function hasForeignFence(section: string): boolean {
  const t = section.trimStart();
  return t.startsWith('```') && !OPEN_FENCE.test(t);
}

function dedent(code: string): string {
  const lines = code.split('\n');
  let indent: string | null = null;
  for (const line of lines) {
    if (line.trim() === '') continue;
    const lead = /^[ \t]*/.exec(line)![0];
    if (indent === null || lead.length < indent.length) indent = lead;
    if (indent === '') return code;
  }
  if (!indent) return code;
  return lines.map((l) => (l.startsWith(indent!) ? l.slice(indent!.length) : l.trimStart())).join('\n');
}

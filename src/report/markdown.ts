// Markdown tables for notebooks (tslab.display.markdown) and logs. Numbers are printed as given (only
// float noise such as 0.30000000000000004 is cut): round a measured value yourself with toFixed, so a
// ground truth such as 239.85 keeps the precision its question asks for.

const cell = (v: unknown): string => {
  const s = typeof v === 'number' ? (Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(12)))) : v === null || v === undefined ? '-' : String(v);
  return s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
};

export function markdownTable(head: readonly string[], rows: readonly (readonly unknown[])[]): string {
  return [`| ${head.map(cell).join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)].join('\n');
}

// Markdown tables for notebooks (tslab.display.markdown) and logs.

const cell = (v: unknown): string => {
  const s = typeof v === 'number' ? (Number.isInteger(v) ? String(v) : Math.abs(v) >= 100 ? v.toFixed(1) : String(Number(v.toPrecision(4)))) : v === null || v === undefined ? '-' : String(v);
  return s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
};

export function markdownTable(head: readonly string[], rows: readonly (readonly unknown[])[]): string {
  return [`| ${head.map(cell).join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)].join('\n');
}

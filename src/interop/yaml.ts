// A small YAML writer for the configs TRL's command line reads: nested maps, lists and scalars.
// Strings are written as JSON strings (a subset of YAML's double-quoted scalars), so nothing is re-typed.

export type YamlValue = string | number | boolean | null | YamlValue[] | { [key: string]: YamlValue | undefined };

/** A map entry whose value is undefined is left out; comments go in as keys starting with '#'. */
export function toYaml(value: { [key: string]: YamlValue | undefined }, indent = 0): string {
  const pad = ' '.repeat(indent);
  let out = '';
  for (const [key, v] of Object.entries(value)) {
    if (v === undefined) continue;
    if (key.startsWith('#')) {
      out += `${pad}${key}${typeof v === 'string' && v ? ` ${v}` : ''}\n`;
      continue;
    }
    out += `${pad}${key}:${block(v, indent)}`;
  }
  return out;
}

function block(v: YamlValue, indent: number): string {
  const pad = ' '.repeat(indent);
  if (Array.isArray(v)) {
    if (v.length === 0) return ' []\n';
    if (v.every((x) => x === null || typeof x !== 'object')) return ` [${v.map(scalar).join(', ')}]\n`;
    return '\n' + v.map((x) => (x !== null && typeof x === 'object' && !Array.isArray(x) ? `${pad}  - ${toYaml(x, indent + 4).trimStart()}` : `${pad}  -${block(x, indent + 2)}`)).join('');
  }
  if (v !== null && typeof v === 'object') return '\n' + toYaml(v, indent + 2);
  return ` ${scalar(v)}\n`;
}

function scalar(v: YamlValue): string {
  if (v === null) return 'null';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`toYaml: ${v} is not a finite number`);
    // YAML 1.1 (PyYAML) reads 2e-05 as a string: always write a dot before the exponent.
    const s = String(v);
    return /e/i.test(s) && !s.includes('.') ? s.replace(/e/i, '.0e') : s;
  }
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return JSON.stringify(v);
}

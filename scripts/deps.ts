// The import layering of src/, drawn from the imports themselves: every relative import, re-export and
// dynamic import() (type-only ones included: they still tie the files together) between src/ files.
// Checks what docs/ARCHITECTURE.md promises: folders import only downward in LAYERS (no
// exception: MAX_BACK_ARROWS is 0), no file-level circles, and the engine imports nothing from training up.
// `npx tsx scripts/deps.ts` prints the drawing and exits non-zero when a rule is broken; test/deps.test.ts checks it.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Bottom to top: a folder may import from its own layer and the ones listed before it. */
export const LAYERS: readonly (readonly string[])[] = [
  ['util', 'config'],
  ['engine'],
  ['sandbox'],
  ['model'],
  ['trace'],
  ['synth'],
  ['claude'],
  ['data'],
  ['eval'],
  ['train'],
  ['report'],
  ['pipeline'],
  ['interop'],
  ['cli'],
  ['index'],
];
export const MAX_BACK_ARROWS = 0;
/** Folders the engine must never reach (it sits below the model). */
export const ENGINE_FORBIDDEN: readonly string[] = ['train', 'eval', 'pipeline', 'cli'];

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const IMPORT = /(?:^|[\s;])(?:import|export)\s[^'"`;]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s*['"]([^'"]+)['"]/gm;

export interface ImportEdge {
  /** Importing file, relative to src/. */
  from: string;
  /** Imported file, relative to src/. */
  to: string;
  line: number;
}

function listTs(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? listTs(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

/** The folder of a src/ file ('index' for src/index.ts). */
export const folderOf = (file: string): string => (file.includes('/') ? file.split('/')[0] : 'index');

/** Every import edge between src/ files: { from, to, line } with paths relative to src/. */
export function importEdges(srcDir = join(root, 'src')): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const abs of listTs(srcDir)) {
    const text = readFileSync(abs, 'utf8').replace(/\/\*[\s\S]*?\*\/|(^|[^:])\/\/.*$/gm, '$1');
    for (const m of text.matchAll(IMPORT)) {
      const spec = (m[1] ?? m[2] ?? m[3])!;
      if (!spec.startsWith('.')) continue;
      const target = resolve(dirname(abs), spec).replace(/\.js$/, '.ts');
      const from = relative(srcDir, abs);
      const to = relative(srcDir, target);
      if (to.startsWith('..')) continue;
      edges.push({ from, to, line: text.slice(0, m.index).split('\n').length });
    }
  }
  return edges;
}

const rankOf = (folder: string): number => {
  const i = LAYERS.findIndex((l) => l.includes(folder));
  if (i < 0) throw new Error(`scripts/deps.ts: folder src/${folder} is in no layer of LAYERS; add it`);
  return i;
};

/** Imports from a folder to one above it in LAYERS. */
export const backArrows = (edges: readonly ImportEdge[]): ImportEdge[] => edges.filter((e) => rankOf(folderOf(e.to)) > rankOf(folderOf(e.from)));

/** File-level circles (strongly connected components of more than one file, or a file importing itself). */
export function circles(edges: readonly ImportEdge[]): string[][] {
  const next = new Map<string, Set<string>>();
  for (const { from, to } of edges) {
    if (!next.has(from)) next.set(from, new Set());
    next.get(from)!.add(to);
  }
  // Tarjan's strongly connected components (recursion depth is bounded by the tree's import depth).
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || next.get(v)?.has(v)) found.push(component.sort());
    }
  };
  for (const v of next.keys()) if (!index.has(v)) visit(v);
  return found;
}

/** The folder-level drawing: one line per layer with the folders each imports. */
export function drawing(edges: readonly ImportEdge[]): string {
  const uses = new Map<string, Set<string>>();
  for (const e of edges) {
    const a = folderOf(e.from);
    const b = folderOf(e.to);
    if (a === b) continue;
    if (!uses.has(a)) uses.set(a, new Set());
    uses.get(a)!.add(b);
  }
  return LAYERS.map((layer, i) => `${String(i).padStart(2)}  ${layer.map((f) => `${f}${uses.has(f) ? ` -> ${[...uses.get(f)!].sort((x, y) => rankOf(x) - rankOf(y)).join(', ')}` : ''}`).join('   |   ')}`).join('\n');
}

/** Every broken rule, as messages naming the file and line; empty when the layering holds. */
export function check(edges: readonly ImportEdge[] = importEdges()): { problems: string[]; back: ImportEdge[] } {
  const problems: string[] = [];
  const back = backArrows(edges);
  if (back.length > MAX_BACK_ARROWS)
    problems.push(`${back.length} imports run back up the layers (at most ${MAX_BACK_ARROWS}):\n${back.map((e) => `  src/${e.from}:${e.line} -> src/${e.to}`).join('\n')}`);
  for (const c of circles(edges)) problems.push(`import circle: ${c.map((f) => `src/${f}`).join(' <-> ')}`);
  for (const e of edges)
    if (folderOf(e.from) === 'engine' && ENGINE_FORBIDDEN.includes(folderOf(e.to))) problems.push(`src/${e.from}:${e.line}: the engine imports src/${e.to} (nothing above the model)`);
  return { problems, back };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const edges = importEdges();
  const { problems, back } = check(edges);
  console.log(`${edges.length} imports between ${new Set(edges.flatMap((e) => [e.from, e.to])).size} files of src/; layers bottom to top:\n${drawing(edges)}`);
  for (const e of back) console.log(`back arrow: src/${e.from}:${e.line} -> src/${e.to}`);
  if (problems.length) {
    console.error(problems.join('\n'));
    process.exit(1);
  }
  console.log('layering holds: ' + `${back.length} back arrow(s), no circles, the engine imports nothing above the model`);
}

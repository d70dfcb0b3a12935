// Keys of the configuration: the strict check of a partial config (a preset, a --config file, a --set)
// with the nearest valid key suggested, and the one-line help of every field (`unitrace config --explain`).
import { z } from 'zod';
import { configSchema } from './schema.js';

/** An object schema's fields, or null for a leaf. */
function fieldsOf(schema: z.ZodType): Record<string, z.ZodType> | null {
  return schema instanceof z.ZodObject ? (schema.shape as Record<string, z.ZodType>) : null;
}

/** Every dotted key path of the schema, objects and leaves, in declaration order. */
export function keyPaths(schema: z.ZodType = configSchema, prefix = ''): string[] {
  const fields = fieldsOf(schema);
  if (!fields) return [];
  return Object.entries(fields).flatMap(([k, s]) => [`${prefix}${k}`, ...keyPaths(s, `${prefix}${k}.`)]);
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j]!;
      row[j] = Math.min(up + 1, row[j - 1]! + 1, diag + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1));
      diag = up;
    }
  }
  return row[b.length]!;
}

/** The valid key nearest to `path` (same depth preferred, then edit distance over the whole path). */
export function nearestKey(path: string, candidates: readonly string[] = keyPaths()): string {
  const depth = path.split('.').length;
  const score = (c: string) => editDistance(path, c) + (c.split('.').length === depth ? 0 : 3);
  return [...candidates].sort((a, b) => score(a) - score(b))[0]!;
}

/**
 * Every key of `patch` that the schema does not know, as messages naming the key path and the nearest
 * valid key; `source` says where the patch came from (a preset, a file, a --set).
 */
export function unknownKeys(patch: unknown, source: string, schema: z.ZodType = configSchema, prefix = ''): string[] {
  const fields = fieldsOf(schema);
  if (!fields || patch === null || typeof patch !== 'object' || Array.isArray(patch)) return [];
  return Object.entries(patch as Record<string, unknown>).flatMap(([k, v]) => {
    const path = `${prefix}${k}`;
    if (!(k in fields)) return [`${source}: unknown config key ${path} (did you mean ${nearestKey(path)}?)`];
    return unknownKeys(v, source, fields[k]!, `${path}.`);
  });
}

/** Throws one error listing every unknown key of `patch`. */
export function assertKnownKeys(patch: unknown, source: string): void {
  const problems = unknownKeys(patch, source);
  if (problems.length) throw new Error(problems.join('\n'));
}

/** A field's type in a few words: enum members, integer, number, list of ... */
function typeLabel(schema: z.ZodType): string {
  if (schema instanceof z.ZodEnum) return (schema.options as string[]).join('|');
  if (schema instanceof z.ZodArray) return `list of ${typeLabel(schema.element as z.ZodType)}`;
  if (schema instanceof z.ZodNumber) return schema.isInt ? 'integer' : 'number';
  if (schema instanceof z.ZodBoolean) return 'boolean';
  if (schema instanceof z.ZodString) return 'string';
  return schema.def.type;
}

export interface FieldHelp {
  path: string;
  type: string;
  description: string;
}

/** Every leaf field with its type and description, in declaration order. */
export function explainFields(schema: z.ZodType = configSchema, prefix = ''): FieldHelp[] {
  const fields = fieldsOf(schema);
  if (!fields) return [];
  return Object.entries(fields).flatMap(([k, s]) =>
    fieldsOf(s) ? explainFields(s, `${prefix}${k}.`) : [{ path: `${prefix}${k}`, type: typeLabel(s), description: s.description ?? '' }],
  );
}

/** The description of a key path (object or leaf), or undefined when there is none. */
export function describeKey(path: string): string | undefined {
  let schema: z.ZodType | undefined = configSchema;
  for (const k of path.split('.')) schema = schema ? fieldsOf(schema)?.[k] : undefined;
  return schema?.description;
}

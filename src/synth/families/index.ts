// The problem families, by name.
import type { Family } from '../types.js';
import { arithmetic } from './arithmetic.js';
import { countdown } from './countdown.js';
import { dates } from './dates.js';
import { geometry } from './geometry.js';
import { logic } from './ordering.js';
import { percent } from './percent.js';
import { sequences } from './sequences.js';
import { units } from './units.js';

export const FAMILIES: readonly Family[] = [arithmetic, geometry, units, percent, sequences, dates, logic, countdown];
export const FAMILY_NAMES: readonly string[] = FAMILIES.map((f) => f.name);

export function getFamily(name: string): Family {
  const f = FAMILIES.find((x) => x.name === name);
  if (!f) throw new Error(`unknown problem family "${name}" (known: ${FAMILY_NAMES.join(', ')})`);
  return f;
}

export { solveCountdown } from './countdown.js';

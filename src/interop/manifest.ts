// What `unitrace export` wrote, kept as DIR/export-manifest.json; shared by the exporter and its README writer.
import type { Difference } from './differences.js';
import type { EquivalenceReport } from './vocabulary.js';

/** What one export wrote: the model folder the configs name, each stage's job and every data file's hash. */
export interface ExportManifest {
  runDir: string;
  runName: string;
  preset: string;
  exportedAt: string;
  /** The model folder the configs name, and how it was made. */
  baseModel: { path: string; from: string; equivalence: EquivalenceReport | null };
  stages: { stage: string; command: string; config: string; data: string; rows: number; totalSteps: number }[];
  evalPrompts: { file: string; rows: number };
  /** sha256 of every data file written (as the run's data/manifest.json does). */
  files: Record<string, string>;
  differences: Difference[];
}

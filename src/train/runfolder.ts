// A training run's folder: config.json (the fully resolved config), metrics.jsonl (one row per optimizer
// step), checkpoints/, and the final adapter/ (or model/ for full fine-tuning).
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { makeDirs } from '../util/files.js';
import { ioError, writeFileAtomic } from './checkpoint.js';
import { isLeftoverTemporary, lockFolder, type FolderLock } from './lock.js';

/** One row of metrics.jsonl. DPO adds rewards/* and logps/*, SFT adds mean_token_accuracy. */
export interface MetricsRow {
  step: number;
  epoch: number;
  loss: number;
  lr: number;
  gradNorm: number;
  /** Input tokens trained on so far (prompt + response, no padding), like TRL's num_tokens. */
  tokens: number;
  tokensPerSecond: number;
  [metric: string]: number;
}

export class RunFolder {
  readonly metricsFile: string;
  readonly checkpoints: string;

  constructor(readonly dir: string) {
    this.metricsFile = join(dir, 'metrics.jsonl');
    this.checkpoints = join(dir, 'checkpoints');
    makeDirs(dir);
  }

  private folderLock: FolderLock | null = null;

  /** Makes this process the folder's only user until unlock(); throws naming the live process that holds it. */
  lock(command?: string): FolderLock {
    this.folderLock ??= lockFolder(this.dir, command);
    return this.folderLock;
  }

  unlock(): void {
    this.folderLock?.release();
    this.folderLock = null;
  }

  /** True when the folder already holds (part of) a run. */
  hasRun(): boolean {
    return existsSync(this.metricsFile) || existsSync(this.checkpoints);
  }

  /** Removes what a killed process left half-written (temporary files and folders of processes now gone). */
  removeTemporaries(): void {
    for (const name of readdirSync(this.dir)) if (isLeftoverTemporary(name)) rmSync(join(this.dir, name), { recursive: true, force: true });
  }

  /** Starts over: removes metrics, checkpoints and final outputs of an earlier run. */
  clear(): void {
    for (const name of ['metrics.jsonl', 'checkpoints', 'adapter', 'model', 'summary.json']) rmSync(join(this.dir, name), { recursive: true, force: true });
  }

  writeJson(name: string, value: unknown): void {
    writeFileAtomic(join(this.dir, name), JSON.stringify(value, null, 2) + '\n');
  }

  readMetrics(): MetricsRow[] {
    if (!existsSync(this.metricsFile)) return [];
    const rows: MetricsRow[] = [];
    const lines = readFileSync(this.metricsFile, 'utf8').split('\n');
    lines.forEach((line, i) => {
      if (line.trim() === '') return;
      try {
        rows.push(JSON.parse(line) as MetricsRow);
      } catch (e) {
        // A kill can cut the last line short; anything else is damage worth reporting.
        if (i < lines.length - 1 && lines.slice(i + 1).some((l) => l.trim() !== '')) throw new Error(`${this.metricsFile}:${i + 1}: ${(e as Error).message}`);
      }
    });
    return rows;
  }

  /** Keeps the rows up to `step` (those a checkpoint covers) so a resumed run appends where it restarts. */
  truncateMetrics(step: number): MetricsRow[] {
    const kept = this.readMetrics().filter((r) => r.step <= step);
    writeFileAtomic(this.metricsFile, kept.map((r) => JSON.stringify(r) + '\n').join(''));
    return kept;
  }

  appendMetrics(row: MetricsRow): void {
    try {
      appendFileSync(this.metricsFile, JSON.stringify(row) + '\n');
    } catch (e) {
      throw ioError('append to', this.metricsFile, e);
    }
  }

  /** Replaces `name` (a folder) with what `write` puts into a temporary folder. */
  writeFolderAtomic(name: string, write: (dir: string) => void | Promise<void>): Promise<string> {
    const final = join(this.dir, name);
    const tmp = join(this.dir, `.tmp-${process.pid}-${name}`);
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    return Promise.resolve(write(tmp)).then(() => {
      try {
        rmSync(final, { recursive: true, force: true });
        renameSync(tmp, final);
      } catch (e) {
        throw ioError('move into place', final, e);
      }
      return final;
    });
  }
}

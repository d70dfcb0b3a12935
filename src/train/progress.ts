// A terminal progress display for training: a bar with loss, tokens/s and ETA on a TTY, and a plain
// line every few percent otherwise (logs, CI, notebooks).
import type { MetricsRow } from './runfolder.js';

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

export interface Progress {
  update(row: MetricsRow, p: { totalSteps: number; etaSeconds: number }): void;
  stop(): void;
}

/** Extra metric shown next to the loss (e.g. rewards/margins for DPO). */
export async function progressBar(label: string, extra?: string, stream: NodeJS.WriteStream = process.stderr): Promise<Progress> {
  const describe = (row: MetricsRow) => (extra && row[extra] !== undefined ? ` ${extra.split('/').pop()} ${row[extra]!.toFixed(3)}` : '');
  if (!stream.isTTY) {
    let lastDecile = -1;
    let lastTime = 0;
    return {
      update(row, p) {
        // A line every 5% of the run, and at least every 30 s.
        const decile = Math.floor((row.step / p.totalSteps) * 20);
        const now = Date.now();
        if (decile === lastDecile && row.step !== p.totalSteps && now - lastTime < 30_000) return;
        lastDecile = decile;
        lastTime = now;
        stream.write(`${label}: step ${row.step}/${p.totalSteps} epoch ${row.epoch.toFixed(2)} loss ${row.loss.toFixed(4)}${describe(row)} ${Math.round(row.tokensPerSecond)} tok/s ETA ${formatDuration(p.etaSeconds)}\n`);
      },
      stop() {},
    };
  }
  const { SingleBar, Presets } = (await import('cli-progress')).default;
  const bar = new SingleBar(
    { format: `${label} [{bar}] {value}/{total} | epoch {epoch} | loss {loss}{extra} | {tps} tok/s | ETA {etaText}`, stream, hideCursor: true, barsize: 24 },
    Presets.shades_classic,
  );
  let started = false;
  return {
    update(row, p) {
      const payload = { epoch: row.epoch.toFixed(2), loss: row.loss.toFixed(4), extra: describe(row), tps: Math.round(row.tokensPerSecond), etaText: formatDuration(p.etaSeconds) };
      if (!started) {
        bar.start(p.totalSteps, row.step, payload);
        started = true;
      } else bar.update(row.step, payload);
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

/** The closing speed line of a training command. */
export function speedLine(r: { tokensPerEpoch: number; tokensSeen: number; trainSeconds: number }): string {
  return `${r.tokensPerEpoch} tokens/epoch, ${Math.round(r.tokensSeen / Math.max(r.trainSeconds, 1e-9))} tokens/s over ${r.trainSeconds.toFixed(0)} s of training`;
}

// Sandbox benchmark: child start time, and small programs per second after warm-up, with every isolation
// layer this machine offers (the pool prints which are off). Each program is followed by the full reset.
// Run: npx tsx bench/sandbox.ts [programs]
import { cpus, loadavg } from 'node:os';
import { createSandboxPool } from '../src/sandbox/index.js';

const PROGRAMS = Number(process.argv[2] ?? 400);
const SMALL = 'total = sum(i * i for i in range(100))\nprint(f"total = {total}")';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function startTimes(rounds: number): Promise<{ wall: number[]; load: number[] }> {
  const wall: number[] = [];
  const load: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const pool = createSandboxPool({ size: 1 });
    const t0 = performance.now();
    await pool.warm();
    wall.push(performance.now() - t0);
    load.push(...pool.stats().startMs);
    await pool.close();
  }
  return { wall, load };
}

async function throughput(size: number, n: number): Promise<number> {
  const pool = createSandboxPool({ size });
  await pool.warm();
  await Promise.all(Array.from({ length: 20 }, () => pool.run(SMALL))); // warm-up
  const t0 = performance.now();
  const results = await Promise.all(Array.from({ length: n }, () => pool.run(SMALL)));
  const seconds = (performance.now() - t0) / 1000;
  const recycled = Object.values(pool.stats().recycled).reduce((a, b) => a + b, 0);
  if (recycled) throw new Error(`${recycled} children were replaced during plain runs`);
  const bad = results.filter((r) => r.status !== 'ok' || r.stdout !== 'total = 328350\n');
  await pool.close();
  if (bad.length) throw new Error(`${bad.length} runs gave a wrong result, e.g. ${JSON.stringify(bad[0])}`);
  return n / seconds;
}

async function timeoutRecovery(): Promise<number> {
  const pool = createSandboxPool({ size: 1, timeoutMs: 500 });
  await pool.warm();
  await pool.run('while True: pass');
  const t0 = performance.now();
  await pool.run(SMALL);
  const ms = performance.now() - t0;
  await pool.close();
  return ms;
}

const start = await startTimes(2);
console.log(`machine: ${cpus().length} cores, Node ${process.version}, load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
{
  const probe = createSandboxPool({ size: 1 });
  const { missing, ...layers } = probe.isolation;
  console.log(`isolation: ${JSON.stringify(layers)}${missing.length ? `; off: ${missing.join('; ')}` : ''}`);
  await probe.close();
}
console.log(`sandbox child start (process + Pyodide + clean snapshot): wall ${start.wall.map((x) => x.toFixed(0)).join(', ')} ms (median ${median(start.wall).toFixed(0)}); inside the child median ${median(start.load).toFixed(0)} ms`);
for (const size of [1, 2]) {
  const rates: number[] = [];
  for (let trial = 0; trial < 3; trial++) rates.push(await throughput(size, PROGRAMS));
  console.log(
    `throughput, pool of ${size}: median ${median(rates).toFixed(0)} small programs/s ` +
      `(trials ${rates.map((r) => r.toFixed(0)).join(', ')}; ${PROGRAMS} programs each after 20 warm-up runs)`,
  );
}
console.log(`after a timeout, the next run waits for a fresh child: ${(await timeoutRecovery()).toFixed(0)} ms`);

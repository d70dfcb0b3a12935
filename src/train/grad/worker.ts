// Entry of a data-parallel training worker ('train' in src/util/worker.ts): one backend, one model copy,
// a LocalGradComputer answering the requests of src/train/grad/parallel.ts one at a time.
import { parentPort } from 'node:worker_threads';
import { LocalGradComputer } from './local.js';
import type { WorkerReply, WorkerRequest } from './parallel.js';

if (!parentPort) throw new Error('src/train/grad/worker.ts runs only as a worker thread');
const port = parentPort;
let computer: LocalGradComputer | null = null;

async function handle(msg: WorkerRequest): Promise<{ reply: WorkerReply; transfer?: ArrayBuffer[] }> {
  switch (msg.type) {
    case 'init':
      computer = await LocalGradComputer.create(msg.spec);
      return { reply: { type: 'ready', backend: computer.backend, matmul: computer.matmul } };
    case 'setTrainable':
      await need().setTrainable(new Map(msg.params));
      return { reply: { type: 'ok' } };
    case 'compute': {
      const r = await need().compute(msg.batch);
      const grads = [...r.grads];
      return { reply: { type: 'result', loss: r.loss, grads, metrics: r.metrics, tokens: r.tokens }, transfer: grads.map(([, g]) => g.buffer as ArrayBuffer) };
    }
    case 'dispose':
      await computer?.dispose();
      computer = null;
      return { reply: { type: 'ok' } };
  }
}

function need(): LocalGradComputer {
  if (!computer) throw new Error('train worker used before init');
  return computer;
}

// Requests arrive one at a time per worker (parallel.ts keeps one in flight), so handling is sequential.
port.on('message', (msg: WorkerRequest) => {
  handle(msg).then(
    ({ reply, transfer }) => port.postMessage(reply, transfer ?? []),
    (e: unknown) => port.postMessage({ type: 'error', message: e instanceof Error ? (e.stack ?? e.message) : String(e) } satisfies WorkerReply),
  );
});

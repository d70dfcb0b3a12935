// Checkpoints a run can resume from after being killed at any moment: each is written into a temporary
// folder and renamed into place, so a checkpoint folder either exists complete or not at all.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { readJsonFile } from '../util/files.js';
import type { AdamWState, ParamMap } from './optimizer.js';
import { checkDataOffsets } from '../model/safetensors.js';
import { isLeftoverTemporary } from './lock.js';

/** Names the file and the reason (a full disk says so) instead of a bare errno. */
export function ioError(action: string, file: string, e: unknown): Error {
  const err = e as NodeJS.ErrnoException;
  const why = err.code === 'ENOSPC' ? 'no space left on device (ENOSPC)' : err.code === 'EDQUOT' ? 'disk quota exceeded (EDQUOT)' : err.message;
  return new Error(`cannot ${action} ${file}: ${why}`);
}

/** Writes bytes and flushes them to disk before returning. */
export function writeFileDurable(file: string, data: string | Uint8Array): void {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'w');
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
  } catch (e) {
    throw ioError('write', file, e);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Writes a file through a temporary name and a rename. */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileDurable(tmp, data);
  try {
    renameSync(tmp, file);
  } catch (e) {
    throw ioError('rename into', file, e);
  }
}

/** Float32 tensors in safetensors layout (flat shapes: these files are for resuming, not for users). */
export function encodeF32Safetensors(tensors: ParamMap): Uint8Array {
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const [name, t] of tensors) {
    header[name] = { dtype: 'F32', shape: [t.length], data_offsets: [offset, offset + t.byteLength] };
    offset += t.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8); // data starts 8-byte aligned
  const headerBytes = Buffer.from(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const t of tensors.values()) {
    out.set(new Uint8Array(t.buffer, t.byteOffset, t.byteLength), at);
    at += t.byteLength;
  }
  return out;
}

export function decodeF32Safetensors(bytes: Uint8Array, file: string): ParamMap {
  if (bytes.length < 8) throw new Error(`${file}: truncated safetensors file (${bytes.length} bytes)`);
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  if (8 + n > bytes.length) throw new Error(`${file}: header length ${n} exceeds the file`);
  let header: Record<string, { dtype: string; data_offsets: [number, number] }>;
  try {
    header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + n)).toString('utf8')) as typeof header;
  } catch (e) {
    throw new Error(`${file}: header is not valid JSON (${(e as Error).message})`);
  }
  const out: ParamMap = new Map();
  const entries = Object.entries(header).filter(([name]) => name !== '__metadata__');
  for (const [name, info] of entries) {
    if (info.dtype !== 'F32') throw new Error(`${file}: tensor ${name} has dtype ${info.dtype}, expected F32`);
    const offs = info.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isInteger(o) && o >= 0) || offs[1] < offs[0] || (offs[1] - offs[0]) % 4 !== 0)
      throw new Error(`${file}: tensor ${name} has bad data_offsets ${JSON.stringify(offs)}`);
    const [a, b] = offs;
    if (8 + n + b > bytes.length) throw new Error(`${file}: tensor ${name} runs past the end of the file`);
    const copy = new Uint8Array(b - a);
    copy.set(bytes.subarray(8 + n + a, 8 + n + b));
    out.set(name, new Float32Array(copy.buffer));
  }
  // Only complete ranges reach here: now refuse two tensors sharing bytes, or bytes of none.
  checkDataOffsets(file, entries.map(([name, info]) => ({ name, begin: info.data_offsets[0], end: info.data_offsets[1] })), bytes.length - 8 - n);
  return out;
}

/** Where the run stands; with the parameters and optimizer moments it determines the rest of the run. */
export interface TrainerState {
  /** Optimizer steps done. */
  step: number;
  epoch: number;
  /** Micro-batches of `epoch` already consumed. */
  batchInEpoch: number;
  /** Input tokens trained on so far. */
  tokensSeen: number;
  /** Seconds spent training so far (for ETA and throughput across resumes). */
  trainSeconds: number;
  /** State of the trainer's random stream (data order and dropout seeds derive from it). */
  rng: number[];
  /** Hash of the resolved config and data, so a resume with other settings is refused. */
  fingerprint: string;
}

export interface Checkpoint {
  dir: string;
  state: TrainerState;
  params: ParamMap;
  optimizer: AdamWState;
}

const stepDir = (root: string, step: number): string => join(root, `step-${String(step).padStart(8, '0')}`);

/**
 * Writes checkpoints/step-N/ (trainer-state.json, trainable.safetensors, optimizer.safetensors, plus
 * whatever `extra` writes into the folder, e.g. the PEFT adapter), keeping the newest `keep` ones.
 */
export async function saveCheckpoint(root: string, ckpt: Omit<Checkpoint, 'dir'>, extra?: (dir: string) => void | Promise<void>, keep = 2): Promise<string> {
  const final = stepDir(root, ckpt.state.step);
  const tmp = join(root, `.tmp-${process.pid}-step-${ckpt.state.step}`);
  try {
    mkdirSync(root, { recursive: true });
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp);
  } catch (e) {
    throw ioError('create checkpoint folder', tmp, e);
  }
  writeFileDurable(join(tmp, 'trainable.safetensors'), encodeF32Safetensors(ckpt.params));
  const moments: ParamMap = new Map();
  for (const [k, m] of ckpt.optimizer.m) moments.set(`exp_avg.${k}`, m);
  for (const [k, v] of ckpt.optimizer.v) moments.set(`exp_avg_sq.${k}`, v);
  writeFileDurable(join(tmp, 'optimizer.safetensors'), encodeF32Safetensors(moments));
  await extra?.(tmp);
  // The state file goes last: its presence marks the folder complete even before the rename.
  writeFileDurable(join(tmp, 'trainer-state.json'), JSON.stringify({ ...ckpt.state, optimizerStep: ckpt.optimizer.step }, null, 2) + '\n');
  try {
    rmSync(final, { recursive: true, force: true });
    renameSync(tmp, final);
  } catch (e) {
    throw ioError('move checkpoint into', final, e);
  }
  for (const old of listCheckpoints(root).slice(0, -keep)) rmSync(stepDir(root, old), { recursive: true, force: true });
  return final;
}

/** Steps of the complete checkpoints under root, ascending. Leftover temporary folders are removed. */
export function listCheckpoints(root: string): number[] {
  if (!existsSync(root)) return [];
  const steps: number[] = [];
  for (const name of readdirSync(root)) {
    if (name.startsWith('.tmp-')) {
      if (isLeftoverTemporary(name)) rmSync(join(root, name), { recursive: true, force: true });
      continue;
    }
    const m = /^step-(\d+)$/.exec(name);
    if (m && existsSync(join(root, name, 'trainer-state.json'))) steps.push(Number(m[1]));
  }
  return steps.sort((a, b) => a - b);
}

export function loadCheckpoint(root: string, step: number): Checkpoint {
  const dir = stepDir(root, step);
  const read = (name: string): Buffer => {
    try {
      return readFileSync(join(dir, name));
    } catch (e) {
      throw ioError('read checkpoint file', join(dir, name), e);
    }
  };
  const raw = readJsonFile<TrainerState & { optimizerStep: number }>(join(dir, 'trainer-state.json'), 'trainer state');
  const { optimizerStep, ...state } = raw;
  const params = decodeF32Safetensors(read('trainable.safetensors'), join(dir, 'trainable.safetensors'));
  const moments = decodeF32Safetensors(read('optimizer.safetensors'), join(dir, 'optimizer.safetensors'));
  const m: ParamMap = new Map();
  const v: ParamMap = new Map();
  for (const [k, t] of moments) {
    if (k.startsWith('exp_avg_sq.')) v.set(k.slice('exp_avg_sq.'.length), t);
    else if (k.startsWith('exp_avg.')) m.set(k.slice('exp_avg.'.length), t);
  }
  return { dir, state, params, optimizer: { step: optimizerStep, m, v } };
}

export function latestCheckpoint(root: string): Checkpoint | null {
  const steps = listCheckpoints(root);
  return steps.length ? loadCheckpoint(root, steps[steps.length - 1]!) : null;
}

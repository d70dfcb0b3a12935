// data_offsets that overlap, leave holes, run past the data or disagree with dtype x shape are refused
// with the file and the tensor, in model files and in training checkpoints alike.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Checkpoint } from '../../src/model/safetensors.js';
import { decodeF32Safetensors, encodeF32Safetensors } from '../../src/train/checkpoint.js';

const dir = mkdtempSync(join(tmpdir(), 'unitrace-offsets-'));

/** A safetensors file with the given header entries and `dataBytes` bytes of data. */
function file(name: string, entries: Record<string, { dtype?: string; shape: number[]; data_offsets: [number, number] }>, dataBytes: number): string {
  const header = JSON.stringify(Object.fromEntries(Object.entries(entries).map(([k, v]) => [k, { dtype: 'F32', ...v }])));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(header)));
  const path = join(dir, name);
  writeFileSync(path, Buffer.concat([len, Buffer.from(header), Buffer.alloc(dataBytes, 1)]));
  return path;
}

test('a well-formed file opens: contiguous ranges covering the data exactly, in any header order', () => {
  const f = file('ok.safetensors', { b: { shape: [2], data_offsets: [16, 24] }, a: { shape: [4], data_offsets: [0, 16] }, empty: { shape: [0], data_offsets: [24, 24] } }, 24);
  assert.deepEqual([...Checkpoint.open(f).tensors.keys()].sort(), ['a', 'b', 'empty']);
});

test('overlapping, holed, out-of-file and mis-sized ranges are refused, naming file and tensor', () => {
  const cases: [string, Parameters<typeof file>[1], number, RegExp][] = [
    ['overlap', { a: { shape: [4], data_offsets: [0, 16] }, b: { shape: [4], data_offsets: [8, 24] } }, 24, /tensor b in .*overlap\.safetensors: data_offsets \[8, 24\] overlap tensor a's \[0, 16\]/],
    ['same bytes', { a: { shape: [4], data_offsets: [0, 16] }, b: { shape: [4], data_offsets: [0, 16] } }, 16, /tensor b in .*: data_offsets \[0, 16\] overlap tensor a's/],
    ['hole', { a: { shape: [2], data_offsets: [0, 8] }, b: { shape: [2], data_offsets: [12, 20] } }, 20, /tensor b in .*hole\.safetensors: data_offsets start at 12 but tensor a ends at 8 \(a hole of 4 bytes/],
    ['late start', { a: { shape: [2], data_offsets: [4, 12] } }, 12, /tensor a in .*: data_offsets start at 4 but the data starts at 0/],
    ['trailing', { a: { shape: [2], data_offsets: [0, 8] } }, 12, /trailing\.safetensors: 4 bytes after the last tensor \(a, ending at 8\) belong to no tensor/],
    ['past the end', { a: { shape: [4], data_offsets: [0, 16] } }, 8, /tensor a in .*past the end\.safetensors: data ends at byte \d+ but the file has \d+ bytes/],
    ['size', { a: { shape: [3], data_offsets: [0, 16] } }, 16, /tensor a in .*size\.safetensors: data_offsets span 16 bytes but F32 \[3\] needs 12/],
    ['bf16 size', { a: { dtype: 'BF16', shape: [2, 2], data_offsets: [0, 16] } }, 16, /tensor a in .*: data_offsets span 16 bytes but BF16 \[2,2\] needs 8/],
  ];
  for (const [name, entries, bytes, message] of cases) assert.throws(() => Checkpoint.open(file(`${name}.safetensors`, entries, bytes)), message, name);
});

test('training checkpoints refuse overlapping ranges too', () => {
  const good = encodeF32Safetensors(new Map([['a', new Float32Array([1, 2])], ['b', new Float32Array([3, 4])]]));
  assert.deepEqual([...decodeF32Safetensors(good, 'ok').get('b')!], [3, 4]);
  const n = Number(Buffer.from(good).readBigUInt64LE(0));
  const header = Buffer.from(good.subarray(8, 8 + n)).toString().replace('"data_offsets":[8,16]', '"data_offsets":[0, 8]');
  assert.equal(Buffer.byteLength(header), n);
  const bad = Buffer.concat([Buffer.from(good.subarray(0, 8)), Buffer.from(header), Buffer.from(good.subarray(8 + n))]);
  assert.throws(() => decodeF32Safetensors(bad, 'trainable.safetensors'), /tensor b in trainable\.safetensors: data_offsets \[0, 8\] overlap tensor a's \[0, 8\]/);
});

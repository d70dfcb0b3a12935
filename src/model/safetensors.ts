// safetensors reading and writing (single files and sharded folders with an index), always
// converting to and from float32 in memory. Errors name the tensor and the file at fault.
import { closeSync, existsSync, fstatSync, openSync, readSync, writeFileSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { makeDirs, readJsonFile } from '../util/files.js';

export type Dtype = 'F32' | 'F16' | 'BF16' | 'F64';
const BYTES: Record<Dtype, number> = { F32: 4, F16: 2, BF16: 2, F64: 8 };

export interface TensorInfo {
  name: string;
  dtype: Dtype;
  shape: number[];
  file: string;
  /** Absolute byte range in the file. */
  begin: number;
  end: number;
}

export interface NamedTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

// ---- dtype conversion -------------------------------------------------------------------------

let f16Table: Float32Array | null = null;
function f16ToF32Table(): Float32Array {
  if (f16Table) return f16Table;
  f16Table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    if (exp === 0) f16Table[h] = sign * frac * 2 ** -24;
    else if (exp === 31) f16Table[h] = frac ? NaN : sign * Infinity;
    else f16Table[h] = sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  return f16Table;
}

const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

/** float32 -> IEEE half bits, rounding to nearest even (as torch does). */
function f32ToF16Bits(x: number): number {
  scratchF32[0] = x;
  const b = scratchU32[0]!;
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const mant = b & 0x7fffff;
  if (exp === 255) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 112; // rebias 127 -> 15
  if (e >= 31) return sign | 0x7c00;
  let m: number;
  let shift: number;
  if (e <= 0) {
    if (e < -10) return sign;
    m = mant | 0x800000; // subnormal half: make the implicit bit explicit
    shift = 14 - e;
  } else {
    m = mant;
    shift = 13;
  }
  let h = m >>> shift;
  const rem = m & ((1 << shift) - 1);
  const halfway = 1 << (shift - 1);
  if (rem > halfway || (rem === halfway && h & 1)) h++;
  // A rounding carry out of the mantissa correctly bumps the exponent (or reaches infinity).
  return e <= 0 ? sign | h : sign | ((e << 10) + h);
}

/** Decodes little-endian raw bytes of a dtype into float32. */
export function decodeToF32(bytes: Uint8Array, dtype: Dtype): Float32Array {
  const n = bytes.length / BYTES[dtype];
  // Copy to an aligned buffer: a tensor's offset in the file need not be aligned.
  const aligned = new Uint8Array(bytes.length);
  aligned.set(bytes);
  const buf = aligned.buffer;
  switch (dtype) {
    case 'F32':
      return new Float32Array(buf, 0, n);
    case 'F64':
      return Float32Array.from(new Float64Array(buf, 0, n));
    case 'BF16': {
      const src = new Uint16Array(buf, 0, n);
      const out = new Uint32Array(n);
      for (let i = 0; i < n; i++) out[i] = src[i]! << 16;
      return new Float32Array(out.buffer);
    }
    case 'F16': {
      const src = new Uint16Array(buf, 0, n);
      const table = f16ToF32Table();
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = table[src[i]!]!;
      return out;
    }
  }
}

/** Encodes float32 values as little-endian bytes of a dtype (bf16 rounds to nearest even). */
export function encodeFromF32(data: Float32Array, dtype: Dtype): Uint8Array {
  const n = data.length;
  switch (dtype) {
    case 'F32':
      return new Uint8Array(Float32Array.from(data).buffer);
    case 'F64':
      return new Uint8Array(Float64Array.from(data).buffer);
    case 'BF16': {
      const bits = new Uint32Array(data.buffer, data.byteOffset, n);
      const out = new Uint16Array(n);
      for (let i = 0; i < n; i++) {
        const b = bits[i]!;
        if ((b & 0x7fffffff) > 0x7f800000) out[i] = (b >>> 16) | 0x40; // keep NaN a NaN
        else out[i] = (b + 0x7fff + ((b >>> 16) & 1)) >>> 16;
      }
      return new Uint8Array(out.buffer);
    }
    case 'F16': {
      const out = new Uint16Array(n);
      for (let i = 0; i < n; i++) out[i] = f32ToF16Bits(data[i]!);
      return new Uint8Array(out.buffer);
    }
  }
}

// ---- reading ----------------------------------------------------------------------------------

/**
 * Tensors' data_offsets (relative to the data section) must tile it exactly, as the reference
 * implementation requires: no two tensors share a byte, no hole between them, nothing after the last.
 * Otherwise a tensor would silently read another's bytes.
 */
export function checkDataOffsets(file: string, ranges: readonly { name: string; begin: number; end: number }[], dataLength: number): void {
  const sorted = [...ranges].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  let prev: { name: string; begin: number; end: number } | null = null;
  for (const r of sorted) {
    if (r.begin < at)
      throw new Error(`tensor ${r.name} in ${file}: data_offsets [${r.begin}, ${r.end}] overlap tensor ${prev!.name}'s [${prev!.begin}, ${prev!.end}]`);
    if (r.begin > at)
      throw new Error(`tensor ${r.name} in ${file}: data_offsets start at ${r.begin} but ${prev ? `tensor ${prev.name} ends at ${at}` : 'the data starts at 0'} (a hole of ${r.begin - at} bytes; safetensors data is contiguous)`);
    at = r.end;
    prev = r;
  }
  if (at > dataLength) throw new Error(`tensor ${prev!.name} in ${file}: runs past the end of the file (data ends at ${at}, the file holds ${dataLength} data bytes; truncated?)`);
  if (at < dataLength)
    throw new Error(`${file}: ${dataLength - at} bytes after the last tensor${prev ? ` (${prev.name}, ending at ${at})` : ''} belong to no tensor (truncated header or appended data?)`);
}

/** One safetensors file, opened lazily: the header is parsed and checked; tensors are read on demand. */
export class SafetensorsFile {
  readonly tensors = new Map<string, TensorInfo>();
  readonly metadata: Record<string, string>;

  private constructor(
    readonly file: string,
    header: Record<string, unknown>,
    dataStart: number,
    fileSize: number,
  ) {
    this.metadata = (header.__metadata__ as Record<string, string> | undefined) ?? {};
    for (const [name, raw] of Object.entries(header)) {
      if (name === '__metadata__') continue;
      const entry = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
      const where = `tensor ${name} in ${file}`;
      if (typeof entry.dtype !== 'string' || !(entry.dtype in BYTES))
        throw new Error(`${where}: unsupported dtype ${JSON.stringify(entry.dtype)} (supported: ${Object.keys(BYTES).join(', ')})`);
      const dtype = entry.dtype as Dtype;
      if (!Array.isArray(entry.shape) || !entry.shape.every((d) => Number.isInteger(d) && d >= 0))
        throw new Error(`${where}: bad shape ${JSON.stringify(entry.shape)}`);
      const offs = entry.data_offsets;
      if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isInteger(o) && o >= 0) || offs[1] < offs[0])
        throw new Error(`${where}: bad data_offsets ${JSON.stringify(offs)}`);
      const shape = entry.shape as number[];
      const expected = shape.reduce((a, b) => a * b, 1) * BYTES[dtype];
      if (offs[1] - offs[0] !== expected)
        throw new Error(`${where}: data_offsets span ${offs[1] - offs[0]} bytes but ${dtype} ${JSON.stringify(shape)} needs ${expected}`);
      const begin = dataStart + offs[0];
      const end = dataStart + offs[1];
      if (end > fileSize) throw new Error(`${where}: data ends at byte ${end} but the file has ${fileSize} bytes (truncated?)`);
      this.tensors.set(name, { name, dtype, shape, file, begin, end });
    }
    checkDataOffsets(file, [...this.tensors.values()].map((t) => ({ name: t.name, begin: t.begin - dataStart, end: t.end - dataStart })), fileSize - dataStart);
  }

  static open(file: string): SafetensorsFile {
    if (!existsSync(file)) throw new Error(`safetensors file not found: ${file}`);
    const fd = openSync(file, 'r');
    try {
      const size = fstatSync(fd).size;
      if (size < 8) throw new Error(`${file}: ${size} bytes is too short for a safetensors file`);
      const lenBuf = Buffer.alloc(8);
      readSync(fd, lenBuf, 0, 8, 0);
      const headerLen = Number(lenBuf.readBigUInt64LE(0));
      if (headerLen > size - 8 || headerLen > 100_000_000)
        throw new Error(`${file}: header length ${headerLen} does not fit a ${size}-byte file (corrupt or truncated)`);
      const headerBuf = Buffer.alloc(headerLen);
      readSync(fd, headerBuf, 0, headerLen, 8);
      let header: unknown;
      try {
        header = JSON.parse(headerBuf.toString('utf8'));
      } catch (e) {
        throw new Error(`${file}: header is not valid JSON (corrupt file): ${(e as Error).message}`);
      }
      if (!header || typeof header !== 'object' || Array.isArray(header)) throw new Error(`${file}: header is not a JSON object`);
      return new SafetensorsFile(file, header as Record<string, unknown>, 8 + headerLen, size);
    } finally {
      closeSync(fd);
    }
  }

  read(name: string): Float32Array {
    const info = this.tensors.get(name);
    if (!info) throw new Error(`tensor ${name} not found in ${this.file}`);
    return readTensor(info);
  }
}

function readTensor(info: TensorInfo): Float32Array {
  const fd = openSync(info.file, 'r');
  try {
    const bytes = new Uint8Array(info.end - info.begin);
    let got = 0;
    while (got < bytes.length) {
      const n = readSync(fd, bytes, got, bytes.length - got, info.begin + got);
      if (n === 0) throw new Error(`tensor ${info.name} in ${info.file}: file ended after ${got} of ${bytes.length} bytes`);
      got += n;
    }
    return decodeToF32(bytes, info.dtype);
  } finally {
    closeSync(fd);
  }
}

/** A model folder's weights: `model.safetensors`, or shards listed in `model.safetensors.index.json`. */
export class Checkpoint {
  readonly tensors = new Map<string, TensorInfo>();

  private constructor(readonly files: SafetensorsFile[]) {
    for (const f of files)
      for (const [name, info] of f.tensors) {
        const prior = this.tensors.get(name);
        if (prior) throw new Error(`tensor ${name} appears in both ${prior.file} and ${info.file}`);
        this.tensors.set(name, info);
      }
  }

  /** Opens a folder (single file or sharded with index) or one .safetensors file. */
  static open(path: string, baseName = 'model'): Checkpoint {
    if (path.endsWith('.safetensors')) return new Checkpoint([SafetensorsFile.open(path)]);
    const index = join(path, `${baseName}.safetensors.index.json`);
    const single = join(path, `${baseName}.safetensors`);
    if (existsSync(index)) {
      const weightMap = readJsonFile<{ weight_map?: Record<string, string> } | null>(index, 'safetensors index')?.weight_map;
      if (!weightMap || typeof weightMap !== 'object') throw new Error(`${index}: no weight_map`);
      const shardNames = [...new Set(Object.values(weightMap))].sort();
      const ckpt = new Checkpoint(shardNames.map((s) => SafetensorsFile.open(join(path, s))));
      for (const [name, shard] of Object.entries(weightMap)) {
        const info = ckpt.tensors.get(name);
        if (!info) throw new Error(`tensor ${name}: listed in ${index} under ${shard} but missing from that file`);
        if (basename(info.file) !== shard) throw new Error(`tensor ${name}: index says ${shard} but found in ${info.file}`);
      }
      return ckpt;
    }
    if (existsSync(single)) return new Checkpoint([SafetensorsFile.open(single)]);
    throw new Error(`no ${baseName}.safetensors or ${baseName}.safetensors.index.json in ${path}`);
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  info(name: string): TensorInfo {
    const info = this.tensors.get(name);
    if (!info) throw new Error(`tensor ${name} not found in checkpoint (${this.files.map((f) => f.file).join(', ')})`);
    return info;
  }

  /** Reads a tensor as float32, checking its shape when one is expected. */
  read(name: string, expectedShape?: readonly number[]): Float32Array {
    const info = this.info(name);
    if (expectedShape && (info.shape.length !== expectedShape.length || info.shape.some((d, i) => d !== expectedShape[i])))
      throw new Error(`tensor ${name} in ${info.file}: shape ${JSON.stringify(info.shape)}, expected ${JSON.stringify(expectedShape)}`);
    return readTensor(info);
  }

  /** The dtype most tensors are stored in (what a re-save should use by default). */
  mainDtype(): Dtype {
    const count = new Map<Dtype, number>();
    for (const t of this.tensors.values()) count.set(t.dtype, (count.get(t.dtype) ?? 0) + (t.end - t.begin));
    return [...count.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'F32';
  }
}

// ---- writing ----------------------------------------------------------------------------------

/** Writes one safetensors file; tensors are written in the given order, 8-byte aligned data. */
export function writeSafetensors(
  file: string,
  tensors: readonly NamedTensor[],
  opts: { dtype?: Dtype; metadata?: Record<string, string> } = {},
): number {
  const dtype = opts.dtype ?? 'F32';
  const header: Record<string, unknown> = { __metadata__: { format: 'pt', ...opts.metadata } };
  let offset = 0;
  for (const t of tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) throw new Error(`tensor ${t.name}: shape ${JSON.stringify(t.shape)} needs ${n} values, got ${t.data.length}`);
    const bytes = n * BYTES[dtype];
    header[t.name] = { dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8); // pad so data starts 8-byte aligned
  const headerBytes = Buffer.from(json, 'utf8');
  makeDirs(dirname(file));
  const fd = openSync(file, 'w');
  try {
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(headerBytes.length));
    writeSync(fd, len);
    writeSync(fd, headerBytes);
    for (const t of tensors) writeSync(fd, encodeFromF32(t.data, dtype));
  } finally {
    closeSync(fd);
  }
  return 8 + headerBytes.length + offset;
}

/**
 * Writes a folder's weights as `model.safetensors`, or as `model-0000N-of-0000M.safetensors` shards
 * with `model.safetensors.index.json` when they exceed maxShardBytes.
 */
export function writeCheckpoint(
  dir: string,
  tensors: readonly NamedTensor[],
  opts: { dtype?: Dtype; maxShardBytes?: number; baseName?: string } = {},
): string[] {
  const dtype = opts.dtype ?? 'F32';
  const base = opts.baseName ?? 'model';
  const max = opts.maxShardBytes ?? Infinity;
  const shards: NamedTensor[][] = [[]];
  let size = 0;
  for (const t of tensors) {
    const bytes = t.data.length * BYTES[dtype];
    if (size > 0 && size + bytes > max) {
      shards.push([]);
      size = 0;
    }
    shards[shards.length - 1]!.push(t);
    size += bytes;
  }
  makeDirs(dir);
  if (shards.length === 1) {
    writeSafetensors(join(dir, `${base}.safetensors`), shards[0]!, { dtype });
    return [join(dir, `${base}.safetensors`)];
  }
  const pad = (i: number) => String(i).padStart(5, '0');
  const weightMap: Record<string, string> = {};
  let total = 0;
  const files = shards.map((shard, i) => {
    const name = `${base}-${pad(i + 1)}-of-${pad(shards.length)}.safetensors`;
    writeSafetensors(join(dir, name), shard, { dtype });
    for (const t of shard) {
      weightMap[t.name] = name;
      total += t.data.length * BYTES[dtype];
    }
    return join(dir, name);
  });
  writeFileSync(join(dir, `${base}.safetensors.index.json`), JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }, null, 2));
  return files;
}

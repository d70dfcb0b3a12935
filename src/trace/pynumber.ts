// Python 3's numbers for the four operations, `//` and `**`: int (arbitrary precision, as BigInt), float
// (IEEE double) and complex (a negative float raised to a fractional power), with Python's results and
// errors (CPython Objects/longobject.c, floatobject.c float_floor_div / float_pow, complexobject.c
// _Py_c_quot / _Py_c_pow / c_powi). Ints are capped at MAX_INT_BITS: past that an operation refuses
// ('limit') where Python would keep computing.

export type PyNumber = { kind: 'int'; v: bigint } | { kind: 'float'; v: number } | { kind: 'complex'; re: number; im: number };

export type PyErrorKind = 'syntax' | 'division-by-zero' | 'overflow' | 'type' | 'limit';

export class PyError extends Error {
  constructor(
    readonly kind: PyErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'PyError';
  }
}

/** About 315,000 decimal digits; 9**9**9 would need 1.2 billion bits. */
export const MAX_INT_BITS = 1 << 20;

export const int = (v: bigint): PyNumber => ({ kind: 'int', v });
export const float = (v: number): PyNumber => ({ kind: 'float', v });
const complex = (re: number, im: number): PyNumber => ({ kind: 'complex', re, im });

function bitLength(v: bigint): number {
  return (v < 0n ? -v : v).toString(2).length;
}

function checkedInt(v: bigint): PyNumber {
  if (bitLength(v) > MAX_INT_BITS) throw new PyError('limit', `an integer over ${MAX_INT_BITS} bits`);
  return int(v);
}

/** int -> float, correctly rounded (as Number(bigint)); too large is Python's OverflowError. */
function intToFloat(v: bigint): number {
  const x = Number(v);
  if (!Number.isFinite(x)) throw new PyError('overflow', 'int too large to convert to float');
  return x;
}

function toFloat(a: PyNumber): number {
  if (a.kind === 'complex') throw new PyError('type', 'a complex number where a real is needed');
  return a.kind === 'int' ? intToFloat(a.v) : a.v;
}

function toComplex(a: PyNumber): { re: number; im: number } {
  return a.kind === 'complex' ? a : { re: toFloat(a), im: 0 };
}

/** The common kind of two operands: int op int stays int, a float makes float, a complex makes complex. */
function rank(a: PyNumber, b: PyNumber): PyNumber['kind'] {
  if (a.kind === 'complex' || b.kind === 'complex') return 'complex';
  return a.kind === 'float' || b.kind === 'float' ? 'float' : 'int';
}

export function negate(a: PyNumber): PyNumber {
  if (a.kind === 'int') return int(-a.v);
  if (a.kind === 'float') return float(-a.v);
  return complex(-a.re, -a.im);
}

export function add(a: PyNumber, b: PyNumber, sign: 1 | -1 = 1): PyNumber {
  const k = rank(a, b);
  if (k === 'int') return checkedInt(sign === 1 ? (a as { v: bigint }).v + (b as { v: bigint }).v : (a as { v: bigint }).v - (b as { v: bigint }).v);
  if (k === 'float') return float(toFloat(a) + sign * toFloat(b));
  const x = toComplex(a);
  const y = toComplex(b);
  return complex(x.re + sign * y.re, x.im + sign * y.im);
}

function cmul(x: { re: number; im: number }, y: { re: number; im: number }): { re: number; im: number } {
  return { re: x.re * y.re - x.im * y.im, im: x.re * y.im + x.im * y.re };
}

export function multiply(a: PyNumber, b: PyNumber): PyNumber {
  const k = rank(a, b);
  if (k === 'int') return checkedInt((a as { v: bigint }).v * (b as { v: bigint }).v);
  if (k === 'float') return float(toFloat(a) * toFloat(b));
  const r = cmul(toComplex(a), toComplex(b));
  return complex(r.re, r.im);
}

/** Python's int / int: the exact quotient correctly rounded to a double. */
function intTrueDivide(a: bigint, b: bigint): number {
  if (b === 0n) throw new PyError('division-by-zero', 'division by zero');
  const LIMIT = 2n ** 53n;
  const abs = (v: bigint) => (v < 0n ? -v : v);
  if (abs(a) <= LIMIT && abs(b) <= LIMIT) return Number(a) / Number(b); // exact operands: IEEE rounds the quotient once
  const negative = a < 0n !== b < 0n;
  const n = abs(a);
  const d = abs(b);
  // Scale so the integer quotient has at least 55 bits; a sticky low bit keeps the rounding exact.
  const shift = 55 - (bitLength(n) - bitLength(d));
  const num = shift > 0 ? n << BigInt(shift) : n;
  const den = shift < 0 ? d << BigInt(-shift) : d;
  let q = num / den;
  if (num % den !== 0n) q |= 1n;
  const x = Number(q) * 2 ** -shift;
  if (!Number.isFinite(x)) throw new PyError('overflow', 'integer division result too large for a float');
  return negative ? -x : x;
}

/** CPython's _Py_c_quot (Smith's method). */
function cdiv(x: { re: number; im: number }, y: { re: number; im: number }): { re: number; im: number } {
  const absRe = Math.abs(y.re);
  const absIm = Math.abs(y.im);
  if (absRe >= absIm) {
    if (absRe === 0) throw new PyError('division-by-zero', 'complex division by zero');
    const ratio = y.im / y.re;
    const denom = y.re + y.im * ratio;
    return { re: (x.re + x.im * ratio) / denom, im: (x.im - x.re * ratio) / denom };
  }
  if (absIm >= absRe) {
    const ratio = y.re / y.im;
    const denom = y.re * ratio + y.im;
    return { re: (x.re * ratio + x.im) / denom, im: (x.im * ratio - x.re) / denom };
  }
  return { re: NaN, im: NaN };
}

export function trueDivide(a: PyNumber, b: PyNumber): PyNumber {
  const k = rank(a, b);
  if (k === 'int') return float(intTrueDivide((a as { v: bigint }).v, (b as { v: bigint }).v));
  if (k === 'float') {
    const d = toFloat(b);
    if (d === 0) throw new PyError('division-by-zero', 'float division by zero');
    return float(toFloat(a) / d);
  }
  const r = cdiv(toComplex(a), toComplex(b));
  return complex(r.re, r.im);
}

/** CPython's float_floor_div: floor of the quotient through fmod, so it agrees with Python's divmod. */
function floatFloorDivide(vx: number, wx: number): number {
  if (wx === 0) throw new PyError('division-by-zero', 'float floor division by zero');
  let mod = vx % wx; // C fmod
  let div = (vx - mod) / wx;
  if (mod !== 0 && wx < 0 !== mod < 0) {
    mod += wx;
    div -= 1;
  }
  if (div === 0) return vx / wx < 0 || Object.is(vx / wx, -0) ? -0 : 0;
  let floorDiv = Math.floor(div);
  if (div - floorDiv > 0.5) floorDiv += 1;
  return floorDiv;
}

export function floorDivide(a: PyNumber, b: PyNumber): PyNumber {
  const k = rank(a, b);
  if (k === 'complex') throw new PyError('type', "unsupported operand type(s) for //: 'complex'");
  if (k === 'float') return float(floatFloorDivide(toFloat(a), toFloat(b)));
  const x = (a as { v: bigint }).v;
  const y = (b as { v: bigint }).v;
  if (y === 0n) throw new PyError('division-by-zero', 'integer division or modulo by zero');
  let q = x / y; // truncates toward zero
  if (x % y !== 0n && x < 0n !== y < 0n) q -= 1n;
  return int(q);
}

/** CPython's float_pow: a negative base with a fractional exponent goes to complex; overflow raises. */
function floatPower(iv: number, iw: number): PyNumber {
  if (iw === 0 || iv === 1) return float(1);
  if (Number.isNaN(iv) || Number.isNaN(iw)) return float(NaN);
  if (!Number.isFinite(iw)) {
    const a = Math.abs(iv);
    if (a === 1) return float(1);
    return float((iw > 0) === a > 1 ? Infinity : 0);
  }
  if (iv === 0 && iw < 0) throw new PyError('division-by-zero', '0.0 cannot be raised to a negative power');
  if (iv < 0 && Number.isFinite(iv) && iw !== Math.floor(iw)) return complexPower({ re: iv, im: 0 }, { re: iw, im: 0 });
  const r = Math.pow(iv, iw);
  if (!Number.isFinite(r) && Number.isFinite(iv)) throw new PyError('overflow', 'numerical result out of range');
  return float(r);
}

function complexPowerUnsigned(x: { re: number; im: number }, n: number): { re: number; im: number } {
  let r = { re: 1, im: 0 };
  let p = x;
  for (let mask = 1; mask > 0 && n >= mask; mask <<= 1) {
    if (n & mask) r = cmul(r, p);
    p = cmul(p, p);
  }
  return r;
}

/** CPython's complex_pow: small integral exponents by repeated products (c_powi), others in polar form (_Py_c_pow). */
function complexPower(a: { re: number; im: number }, b: { re: number; im: number }): PyNumber {
  let r: { re: number; im: number };
  if (b.im === 0 && b.re === Math.trunc(b.re) && Math.abs(b.re) <= 100) {
    const n = b.re;
    r = n > 0 ? complexPowerUnsigned(a, n) : cdiv({ re: 1, im: 0 }, complexPowerUnsigned(a, -n));
  } else if (b.re === 0 && b.im === 0) {
    r = { re: 1, im: 0 };
  } else if (a.re === 0 && a.im === 0) {
    if (b.im !== 0 || b.re < 0) throw new PyError('division-by-zero', '0.0 to a negative or complex power');
    r = { re: 0, im: 0 };
  } else {
    const vabs = Math.hypot(a.re, a.im);
    let len = Math.pow(vabs, b.re);
    const at = Math.atan2(a.im, a.re);
    let phase = at * b.re;
    if (b.im !== 0) {
      len /= Math.exp(at * b.im);
      phase += b.im * Math.log(vabs);
    }
    r = { re: len * Math.cos(phase), im: len * Math.sin(phase) };
  }
  if (!Number.isFinite(r.re) || !Number.isFinite(r.im)) throw new PyError('overflow', 'complex exponentiation');
  return complex(r.re, r.im);
}

export function power(a: PyNumber, b: PyNumber): PyNumber {
  const k = rank(a, b);
  if (k === 'complex') return complexPower(toComplex(a), toComplex(b));
  if (k === 'float') return floatPower(toFloat(a), toFloat(b));
  const base = (a as { v: bigint }).v;
  const exp = (b as { v: bigint }).v;
  if (exp < 0n) {
    if (base === 0n) throw new PyError('division-by-zero', '0.0 cannot be raised to a negative power');
    return floatPower(intToFloat(base), intToFloat(exp));
  }
  if (base === 0n || base === 1n) return int(exp === 0n ? 1n : base);
  if (base === -1n) return int(exp % 2n === 0n ? 1n : -1n);
  if (BigInt(bitLength(base) - 1) * exp > BigInt(MAX_INT_BITS)) throw new PyError('limit', `an integer over ${MAX_INT_BITS} bits`);
  return checkedInt(base ** exp);
}

/** Python's abs(x - target) for a real target, as a double (int differences exact until converted). */
export function distanceTo(x: PyNumber, target: number): number {
  if (x.kind === 'int' && Number.isInteger(target)) {
    const d = x.v - BigInt(target);
    return Math.abs(Number(d));
  }
  if (x.kind === 'complex') return Math.hypot(x.re - target, x.im);
  return Math.abs(toFloat(x) - target);
}

/** A double for display and comparisons between expressions (complex: NaN). */
export function approximate(x: PyNumber): number {
  if (x.kind === 'complex') return NaN;
  return x.kind === 'int' ? Number(x.v) : x.v;
}

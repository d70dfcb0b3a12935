// A small recursive-descent evaluator for the four arithmetic operations, so answers are never run
// through a general eval. Grammar (Python's precedence for the subset):
//   expr   := term (('+' | '-') term)*
//   term   := unary (('*' | '/') unary)*
//   unary  := ('+' | '-') unary | atom
//   atom   := INTEGER | '(' expr ')'

export type ArithmeticErrorKind = 'syntax' | 'division-by-zero';

export class ArithmeticError extends Error {
  constructor(
    readonly kind: ArithmeticErrorKind,
    message: string,
    readonly at: number,
  ) {
    super(`${message} at offset ${at}`);
    this.name = 'ArithmeticError';
  }
}

interface Token {
  type: 'num' | 'op' | 'end';
  text: string;
  at: number;
}

/** Integers, + - * / ( ). `**`, `//` and decimals are rejected: the game allows the four operations on whole numbers. */
function lex(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const ch = src[i]!;
    if (/\s/.test(ch)) {
      i++;
    } else if (ch >= '0' && ch <= '9') {
      let j = i;
      while (j < src.length && src[j]! >= '0' && src[j]! <= '9') j++;
      if (src[j] === '.') throw new ArithmeticError('syntax', 'decimal numbers are not allowed', j);
      tokens.push({ type: 'num', text: src.slice(i, j), at: i });
      i = j;
    } else if ('+-*/()'.includes(ch)) {
      if ((ch === '*' || ch === '/') && src[i + 1] === ch) {
        throw new ArithmeticError('syntax', `operator ${ch}${ch} is not allowed`, i);
      }
      tokens.push({ type: 'op', text: ch, at: i });
      i++;
    } else {
      throw new ArithmeticError('syntax', `unexpected character ${JSON.stringify(ch)}`, i);
    }
  }
  tokens.push({ type: 'end', text: '', at: src.length });
  return tokens;
}

/** Evaluates an arithmetic expression in float64 (true division, as Python 3's `/`). */
export function evaluateArithmetic(src: string): number {
  const tokens = lex(src);
  let pos = 0;
  const peek = (): Token => tokens[pos]!;
  const take = (): Token => tokens[pos++]!;

  // Nesting is bounded by the input length; a 1 MB string of '(' would overflow the JS stack, so cap it.
  let depth = 0;
  const MAX_DEPTH = 200;

  function expr(): number {
    let v = term();
    while (peek().text === '+' || peek().text === '-') {
      const op = take().text;
      const r = term();
      v = op === '+' ? v + r : v - r;
    }
    return v;
  }
  function term(): number {
    let v = unary();
    while (peek().text === '*' || peek().text === '/') {
      const op = take();
      const r = unary();
      if (op.text === '/') {
        if (r === 0) throw new ArithmeticError('division-by-zero', 'division by zero', op.at);
        v = v / r;
      } else {
        v = v * r;
      }
    }
    return v;
  }
  function unary(): number {
    const t = peek();
    if (t.text === '+' || t.text === '-') {
      take();
      if (++depth > MAX_DEPTH) throw new ArithmeticError('syntax', 'expression nested too deeply', t.at);
      const v = unary();
      depth--;
      return t.text === '-' ? -v : v;
    }
    return atom();
  }
  function atom(): number {
    const t = take();
    if (t.type === 'num') return Number(t.text);
    if (t.text === '(') {
      if (++depth > MAX_DEPTH) throw new ArithmeticError('syntax', 'expression nested too deeply', t.at);
      const v = expr();
      depth--;
      const close = take();
      if (close.text !== ')') throw new ArithmeticError('syntax', `expected ")" but found ${describe(close)}`, close.at);
      return v;
    }
    throw new ArithmeticError('syntax', `expected a number or "(" but found ${describe(t)}`, t.at);
  }

  const value = expr();
  const rest = peek();
  if (rest.type !== 'end') throw new ArithmeticError('syntax', `unexpected ${describe(rest)}`, rest.at);
  return value;
}

function describe(t: Token): string {
  return t.type === 'end' ? 'the end of the expression' : JSON.stringify(t.text);
}

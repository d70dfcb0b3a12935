// Arithmetic expressions with Python 3's syntax and values, so an answer means what TinyZero's eval()
// makes of it, without running a general eval. Only what TinyZero's character filter lets through is
// understood: digits, + - * / ( ) . and whitespace. Python's grammar for that subset:
//   expr   := term (('+' | '-') term)*
//   term   := factor (('*' | '/' | '//') factor)*
//   factor := ('+' | '-') factor | power
//   power  := primary ('**' factor)?          (so -2**2 == -4 and 2**-1 == 0.5; ** is right-associative)
//   primary:= atom ('(' ... ')')*             (a call: always a TypeError here)
//   atom   := NUMBER | '(' expr ')' | '(' ')' | '...'   (the empty tuple and Ellipsis are not numbers)
// The whole expression is parsed before anything is evaluated, as Python compiles before it runs.
import { add, floorDivide, float, int, multiply, negate, power, PyError, trueDivide, type PyErrorKind, type PyNumber } from './pynumber.js';

export type ArithmeticErrorKind = PyErrorKind;

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

type Node =
  | { op: 'num'; value: PyNumber; at: number }
  | { op: 'not-a-number'; what: string; at: number }
  | { op: 'neg' | 'pos'; arg: Node; at: number }
  | { op: '+' | '-' | '*' | '/' | '//' | '**'; left: Node; right: Node; at: number }
  | { op: 'call'; at: number };

/** Python's tokenizer allows at most 200 open parentheses (Parser/tokenizer.c MAXLEVEL). */
const MAX_PARENS = 200;
/** Operators nested deeper than this are refused (CPython's compiler gives up between 1,000 and 3,000). */
const MAX_DEPTH = 1000;

/** Python's tokens for the allowed characters; \r inside parentheses is a line break Python ignores there. */
function lex(src: string): Token[] {
  const tokens: Token[] = [];
  let depth = 0;
  let i = 0;
  const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';
  while (i < src.length) {
    const ch = src[i]!;
    if (ch === ' ' || ch === '\t' || ch === '\f') {
      i++;
    } else if (ch === '\r' && depth > 0) {
      i++;
    } else if (isDigit(ch) || (ch === '.' && isDigit(src[i + 1]))) {
      let j = i;
      while (isDigit(src[j])) j++;
      const intPart = src.slice(i, j);
      let isFloat = false;
      if (src[j] === '.') {
        isFloat = true;
        j++;
        while (isDigit(src[j])) j++;
      }
      if (!isFloat && /^0+[1-9]/.test(intPart)) throw new ArithmeticError('syntax', 'leading zeros in decimal integer literals are not permitted', i);
      tokens.push({ type: 'num', text: src.slice(i, j), at: i });
      i = j;
    } else if (src.startsWith('...', i)) {
      tokens.push({ type: 'op', text: '...', at: i });
      i += 3;
    } else if (src.startsWith('**', i) || src.startsWith('//', i)) {
      tokens.push({ type: 'op', text: src.slice(i, i + 2), at: i });
      i += 2;
    } else if ('+-*/()'.includes(ch)) {
      if (ch === '(' && ++depth > MAX_PARENS) throw new ArithmeticError('syntax', 'too many nested parentheses', i);
      if (ch === ')') depth = Math.max(0, depth - 1);
      tokens.push({ type: 'op', text: ch, at: i });
      i++;
    } else {
      throw new ArithmeticError('syntax', `invalid character ${JSON.stringify(ch)} (U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')})`, i);
    }
  }
  tokens.push({ type: 'end', text: '', at: src.length });
  return tokens;
}

function literal(text: string): PyNumber {
  return text.includes('.') ? float(Number(text.startsWith('.') ? `0${text}` : text.endsWith('.') ? `${text}0` : text)) : int(BigInt(text));
}

function parse(src: string): Node {
  const tokens = lex(src);
  let pos = 0;
  let depth = 0;
  const peek = (): Token => tokens[pos]!;
  const take = (): Token => tokens[pos++]!;
  const deeper = (at: number): void => {
    if (++depth > MAX_DEPTH) throw new ArithmeticError('limit', `expression nested more than ${MAX_DEPTH} deep`, at);
  };

  // A chain a + b + ... nests to the left: each operator adds a level, released when the chain ends.
  function expr(): Node {
    const start = depth;
    let left = term();
    while (peek().text === '+' || peek().text === '-') {
      const t = take();
      deeper(t.at);
      left = { op: t.text as '+' | '-', left, right: term(), at: t.at };
    }
    depth = start;
    return left;
  }
  function term(): Node {
    const start = depth;
    let left = factor();
    while (peek().text === '*' || peek().text === '/' || peek().text === '//') {
      const t = take();
      deeper(t.at);
      left = { op: t.text as '*' | '/' | '//', left, right: factor(), at: t.at };
    }
    depth = start;
    return left;
  }
  function factor(): Node {
    const t = peek();
    if (t.text === '+' || t.text === '-') {
      take();
      deeper(t.at);
      const arg = factor();
      depth--;
      return { op: t.text === '-' ? 'neg' : 'pos', arg, at: t.at };
    }
    return powerExpr();
  }
  function powerExpr(): Node {
    const base = primary();
    if (peek().text !== '**') return base;
    const t = take();
    deeper(t.at);
    const right = factor();
    depth--;
    return { op: '**', left: base, right, at: t.at };
  }
  function primary(): Node {
    let node = atom();
    // A parenthesis after an atom is a call, as in Python: it parses (when its arguments do) and fails at run time.
    while (peek().text === '(') {
      const open = take();
      if (peek().text !== ')') {
        deeper(open.at);
        expr();
        depth--;
      }
      expect(')');
      node = { op: 'call', at: open.at };
    }
    return node;
  }
  function atom(): Node {
    const t = take();
    if (t.type === 'num') return { op: 'num', value: literal(t.text), at: t.at };
    if (t.text === '...') return { op: 'not-a-number', what: 'Ellipsis', at: t.at };
    if (t.text === '(') {
      if (peek().text === ')') {
        take();
        return { op: 'not-a-number', what: 'an empty tuple', at: t.at };
      }
      deeper(t.at);
      const inner = expr();
      depth--;
      expect(')');
      return inner;
    }
    throw new ArithmeticError('syntax', `invalid syntax: ${describe(t)}`, t.at);
  }
  function expect(text: string): void {
    const t = take();
    if (t.text !== text) throw new ArithmeticError('syntax', `invalid syntax: expected "${text}" but found ${describe(t)}`, t.at);
  }

  const root = expr();
  if (peek().type !== 'end') throw new ArithmeticError('syntax', `invalid syntax: ${describe(peek())}`, peek().at);
  return root;
}

function evaluate(node: Node): PyNumber {
  try {
    switch (node.op) {
      case 'num':
        return node.value;
      case 'not-a-number':
        throw new PyError('type', `${node.what} is not a number`);
      case 'call':
        throw new PyError('type', 'a number is not callable');
      case 'neg':
        return negate(evaluate(node.arg));
      case 'pos':
        return evaluate(node.arg);
      case '**':
        return power(evaluate(node.left), evaluate(node.right));
      default: {
        const a = evaluate(node.left);
        const b = evaluate(node.right);
        if (node.op === '+') return add(a, b);
        if (node.op === '-') return add(a, b, -1);
        if (node.op === '*') return multiply(a, b);
        if (node.op === '/') return trueDivide(a, b);
        return floorDivide(a, b);
      }
    }
  } catch (e) {
    if (e instanceof PyError) throw new ArithmeticError(e.kind, e.message, node.at);
    throw e;
  }
}

/** Evaluates an expression as Python 3 would: an int, float or complex, or an ArithmeticError (a SyntaxError, ZeroDivisionError, OverflowError, TypeError, or past a limit). */
export function evaluateArithmetic(src: string): PyNumber {
  return evaluate(parse(src));
}

function describe(t: Token): string {
  return t.type === 'end' ? 'the end of the expression' : JSON.stringify(t.text);
}

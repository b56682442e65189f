/**
 * Where a JSON text stops being valid, and what was expected there — without quoting the text
 * (V8's JSON.parse messages quote the source, which may hold a password, and name a position
 * only for some errors).
 * @module
 */

export interface JsonSyntaxProblem {
  /** 1-based line and column (UTF-16 code units) of the offending character. */
  readonly line: number;
  readonly column: number;
  readonly expected: string;
}

/**
 * A config file's text (a leading byte-order mark ignored) as a value, or the one-line reason it
 * is not JSON: "not valid JSON at line 3 column 5: expected ...", never quoting the text.
 */
export function parseJsonText(text: string): { readonly value: unknown } | { readonly error: string } {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  try {
    return { value: JSON.parse(body) as unknown };
  } catch {
    const where = findJsonSyntaxError(body);
    return { error: `not valid JSON${where === undefined ? '' : ` at line ${where.line} column ${where.column}: expected ${where.expected}`}` };
  }
}

class Stop extends Error {
  constructor(
    readonly offset: number,
    readonly expected: string,
  ) {
    super(expected);
  }
}

/** The first syntax error of `text` (RFC 8259, as JSON.parse accepts it), or undefined if none. */
export function findJsonSyntaxError(text: string): JsonSyntaxProblem | undefined {
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const expect = (ch: string, what: string) => {
    if (text[i] !== ch) throw new Stop(i, what);
    i++;
  };
  const literal = (word: string) => {
    if (text.startsWith(word, i)) i += word.length;
    else throw new Stop(i, 'a value (object, array, string, number, true, false or null)');
  };
  const string = () => {
    expect('"', 'a double-quoted string');
    for (;;) {
      if (i >= text.length) throw new Stop(i, 'a closing "');
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return;
      }
      if (c < 0x20) throw new Stop(i, 'no control character inside a string (write \\n, \\t, ...)');
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else if (e === 'u' && /^[0-9A-Fa-f]{4}$/.test(text.slice(i + 2, i + 6))) i += 6;
        else throw new Stop(i, 'a valid escape (\\", \\\\, \\/, \\b, \\f, \\n, \\r, \\t or \\uXXXX)');
      } else i++;
    }
  };
  const number = () => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
    if (m === null || m[0] === '' || m[0] === '-') throw new Stop(i, 'a value (object, array, string, number, true, false or null)');
    i += m[0].length;
    // "01", "1.", "1e" are not numbers: the next character must not continue one.
    if (i < text.length && /[0-9.eE]/.test(text[i]!)) throw new Stop(i, 'a valid number');
  };
  const value = (depth: number): void => {
    if (depth > 512) throw new Stop(i, 'less deeply nested data');
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') throw new Stop(i, 'a double-quoted property name');
        string();
        ws();
        expect(':', "':' after the property name");
        value(depth + 1);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        expect('}', "',' or '}' after the property value");
        return;
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        value(depth + 1);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        expect(']', "',' or ']' after the array element");
        return;
      }
    }
    if (c === '"') return string();
    if (c === 't') return literal('true');
    if (c === 'f') return literal('false');
    if (c === 'n') return literal('null');
    return number();
  };

  try {
    value(0);
    ws();
    if (i < text.length) throw new Stop(i, 'the end of the file after the top-level value');
    return undefined;
  } catch (err) {
    if (!(err instanceof Stop)) throw err;
    return { ...lineColumn(text, err.offset), expected: err.offset >= text.length ? `${err.expected}, found the end of the file` : err.expected };
  }
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let k = 0; k < offset && k < text.length; k++) {
    if (text[k] === '\n') {
      line++;
      start = k + 1;
    }
  }
  return { line, column: offset - start + 1 };
}

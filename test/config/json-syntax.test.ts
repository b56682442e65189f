// The JSON syntax locator agrees with JSON.parse on what is valid, and points at the first error.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { findJsonSyntaxError } from '../../src/config/json-syntax.js';

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

describe('findJsonSyntaxError', { timeout: 60_000 }, () => {
  it('finds no error in valid JSON', () => {
    for (const t of ['{}', ' [ ] ', '{"a": [1, -2.5e3, 0, true, false, null, "x\\u00e9\\n"], "b": {"c": {}}}', '"s"', '0', '-0.1E+2']) {
      assert.equal(findJsonSyntaxError(t), undefined, t);
    }
  });

  it('points at the line and column of the first error', () => {
    assert.deepEqual(findJsonSyntaxError('{\n  "a": 01\n}'), { line: 2, column: 9, expected: 'a valid number' });
    assert.deepEqual(findJsonSyntaxError("{'a': 1}"), { line: 1, column: 2, expected: 'a double-quoted property name' });
    assert.deepEqual(findJsonSyntaxError('{"a": 1} x'), { line: 1, column: 10, expected: 'the end of the file after the top-level value' });
    assert.deepEqual(findJsonSyntaxError('["a\tb"]'), { line: 1, column: 4, expected: 'no control character inside a string (write \\n, \\t, ...)' });
  });

  it('agrees with JSON.parse on mangled documents', () => {
    const base = '{"network": "regtest", "threads": [1, 2.5, -3e2], "x": {"y": null, "z": "a\\"b\\u0041"}, "t": true}';
    const alphabet = ['', '"', ',', ':', '{', '}', '[', ']', ' ', '\n', '0', '-', '.', 'e', 'x', '\\', 'n', 't'];
    let seed = 42;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    for (let k = 0; k < 5000; k++) {
      let t = base;
      for (let m = 1 + rand(3); m > 0; m--) {
        const at = rand(t.length + 1);
        const cut = rand(3);
        t = t.slice(0, at) + alphabet[rand(alphabet.length)]! + t.slice(at + cut);
      }
      assert.equal(findJsonSyntaxError(t) === undefined, parses(t), t);
    }
  });
});

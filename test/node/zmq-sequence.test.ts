// The hashblock sequence (Bitcoin Core doc/zmq.md: a 4-byte little-endian counter per topic,
// starting at 0 when the node starts): a gap is lost notifications, a counter that went back — or
// any number on a connection made again — is a restarted node, never a gap of four billion.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { sequenceStep } from '../../src/node/zmq-blocks.js';

describe('ZMQ hashblock sequence', { timeout: 10_000 }, () => {
  const cases: Array<[string, number | undefined, number, boolean, unknown]> = [
    ['the first notice', undefined, 7, false, { kind: 'first' }],
    ['the next one', 7, 8, false, { kind: 'next' }],
    ['two lost', 7, 10, false, { kind: 'gap', missed: 2 }],
    // The run: 380 notices, then the node restarted and sent 0.
    ['a restarted node sends 0 after 380: a restart, not 4294966915 lost', 380, 0, false, { kind: 'restart' }],
    ['a restarted node, counter at 3 when we reconnect', 380, 3, false, { kind: 'restart' }],
    ['the same number again', 5, 5, false, { kind: 'restart' }],
    ['the counter wrapping past 2^32 - 1', 0xffffffff, 0, false, { kind: 'next' }],
    ['lost across the wrap', 0xfffffffe, 1, false, { kind: 'gap', missed: 2 }],
    ['a connection made again: the number belongs to a new counter', 100, 150, true, { kind: 'restart' }],
    ['a connection made again, the old counter going on', 100, 101, true, { kind: 'next' }],
  ];
  for (const [what, last, seq, fresh, expected] of cases) {
    it(what, () => assert.deepEqual(sequenceStep(last, seq, fresh), expected));
  }
});

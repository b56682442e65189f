// Every transition of a found block announced once, restarts included: what the journal says
// happened, less what its `notified` lines say was announced. Fixtures are journal lines as the
// miner writes them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { journaledEvents, unannounced } from '../../src/submit/announcements.js';
import type { JournalRecord } from '../../src/submit/found-block-journal.js';
import { sampleFound } from '../support/files.js';

const t = new Date().toISOString();

describe('announcements across restarts', { timeout: 10_000 }, () => {
  it('a run that stopped right after its block was accepted, then orphaned while it was down: only orphaned is left to say', () => {
    const found = sampleFound({ coinbaseValue: 5e9, nodes: 1 });
    const records: JournalRecord[] = [
      found,
      { type: 'outcome', time: t, hash: found.hash, outcome: 'accepted' },
      { type: 'notified', time: t, hash: found.hash, event: 'found' },
      { type: 'notified', time: t, hash: found.hash, event: 'accepted' },
      // The next run's start-up check journaled this, and was killed before announcing it.
      { type: 'status', time: t, hash: found.hash, status: 'orphaned', confirmations: -1, tipHeight: found.height + 2, reason: 'not in the active chain' },
    ];
    assert.deepEqual(unannounced(records, 'regtest'), [{ hash: found.hash, event: 'orphaned' }]);
    assert.deepEqual(unannounced([...records, { type: 'notified', time: t, hash: found.hash, event: 'orphaned' }], 'regtest'), []);
  });

  it('each occurrence counts: orphaned, restored, orphaned again is three events; a restoration after a hand-back is one', () => {
    const b = sampleFound({ coinbaseValue: 5e9, nodes: 2 });
    const st = (status: 'confirmed' | 'orphaned' | 'mature', extra: Partial<{ restored: boolean }> = {}): JournalRecord => ({ type: 'status', time: t, hash: b.hash, status, confirmations: status === 'orphaned' ? -1 : 1, tipHeight: b.height, ...extra });
    const records: JournalRecord[] = [b, { type: 'outcome', time: t, hash: b.hash, outcome: 'accepted' }, st('confirmed'), st('orphaned'), st('confirmed'), st('orphaned'), st('confirmed', { restored: true }), st('mature')];
    assert.deepEqual(journaledEvents(records, 'regtest').map((e) => e.event), ['found', 'accepted', 'orphaned', 'restored', 'orphaned', 'restored', 'matured']);
    const said: JournalRecord[] = ['found', 'accepted', 'orphaned', 'restored'].map((event) => ({ type: 'notified', time: t, hash: b.hash, event }));
    assert.deepEqual(unannounced([...records, ...said], 'regtest').map((e) => e.event), ['orphaned', 'restored', 'matured']);
  });

  it('blocks of an earlier version (no `nodes` in their found line) and of other networks are not announced again', () => {
    const old = sampleFound({ coinbaseValue: 5e9 });
    const signet = sampleFound({ coinbaseValue: 5e9, nodes: 1, network: 'signet' });
    const records: JournalRecord[] = [old, { type: 'outcome', time: t, hash: old.hash, outcome: 'accepted' }, signet];
    assert.deepEqual(unannounced(records, 'regtest'), []);
  });

  it('a rejected or stale answer is a rejected event; a duplicate or inconclusive one is none', () => {
    const a = sampleFound({ nodes: 1 });
    const b = sampleFound({ nodes: 1 });
    const c = sampleFound({ nodes: 1 });
    const records: JournalRecord[] = [
      a, b, c,
      { type: 'outcome', time: t, hash: a.hash, outcome: 'stale' },
      { type: 'outcome', time: t, hash: b.hash, outcome: 'inconclusive' },
      { type: 'outcome', time: t, hash: c.hash, outcome: 'rejected', reason: 'high-hash' },
      // A replay's line after the block was settled changes nothing.
      { type: 'outcome', time: t, hash: c.hash, outcome: 'accepted' },
    ];
    assert.deepEqual(journaledEvents(records, 'regtest').filter((e) => e.event !== 'found').map((e) => [e.hash, e.event]), [[a.hash, 'rejected'], [c.hash, 'rejected']]);
  });
});

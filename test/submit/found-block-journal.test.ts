// The found-blocks journal on real files in a temp folder: what is written, what survives a torn
// write, what counts as pending, and how an unusable path is reported.
import assert from 'node:assert/strict';
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import {
  DEFAULT_JOURNAL_NAME,
  FoundBlockJournal,
  JournalError,
  type Outcome,
} from '../../src/submit/found-block-journal.js';
import { sampleFound, spyOnFsync, tempDir } from '../support/files.js';

async function lines(path: string): Promise<unknown[]> {
  const text = await readFile(path, 'utf8');
  assert.ok(text.endsWith('\n'), 'file ends with a newline');
  return text.trimEnd().split('\n').map((l) => JSON.parse(l) as unknown);
}

describe('FoundBlockJournal', { timeout: 60_000 }, () => {
  it('creates parent folders and writes one JSON line per record', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const path = join(dir, 'a', 'b', DEFAULT_JOURNAL_NAME);
      const journal = await FoundBlockJournal.open(path);
      const found = sampleFound();
      await journal.appendFound(found);
      await journal.appendOutcome({ type: 'outcome', time: new Date().toISOString(), hash: found.hash, outcome: 'inconclusive', reason: 'inconclusive' });
      await journal.close();
      const got = await lines(path);
      assert.equal(got.length, 2);
      assert.deepEqual(got[0], found);
      assert.equal((got[1] as { outcome: string }).outcome, 'inconclusive');
    } finally {
      await cleanup();
    }
  });

  it('an append resolves only after an fsync of the file; a new file also fsyncs its folders', async () => {
    const { dir, cleanup } = await tempDir();
    const events: string[] = [];
    const spy = await spyOnFsync(join(dir, 'probe'), events);
    try {
      const path = join(dir, 'new', 'found-blocks.jsonl');
      const journal = await FoundBlockJournal.open(path);
      assert.ok(events.includes('fsync:dir'), `a new file syncs its directory: ${events.join(' ')}`);
      events.length = 0;
      await journal.appendFound(sampleFound());
      events.push('resolved');
      assert.deepEqual(events, ['fsync:file', 'resolved']);
      await journal.close();

      // Reopening an existing file does not need the directory synced again.
      events.length = 0;
      const again = await FoundBlockJournal.open(path);
      assert.ok(!events.includes('fsync:dir'), `existing file: ${events.join(' ')}`);
      await again.close();
    } finally {
      spy.restore();
      await cleanup();
    }
  });

  it('tolerates a torn last line, reports it once, and does not glue the next record onto it', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const path = join(dir, 'found-blocks.jsonl');
      const whole = sampleFound();
      const torn = JSON.stringify(sampleFound()).slice(0, 57); // a crash in the middle of write()
      await writeFile(path, `${JSON.stringify(whole)}\n${torn}`);
      const warnings: string[] = [];
      const journal = await FoundBlockJournal.open(path, { warn: (m) => warnings.push(m) });
      assert.deepEqual((await journal.pending()).map((r) => r.hash), [whole.hash]);
      assert.equal(warnings.length, 1);
      assert.match(warnings[0] ?? '', /incomplete/);

      await journal.pending();
      assert.equal(warnings.length, 1, 'reported once');

      const next = sampleFound();
      await journal.appendFound(next);
      assert.deepEqual((await journal.pending()).map((r) => r.hash), [whole.hash, next.hash]);
      const scan = await journal.scan();
      assert.equal(scan.tornTail, false, 'the fragment is now an ordinary skipped line');
      assert.deepEqual(scan.corruptLines, [2]);
      await journal.close();
    } finally {
      await cleanup();
    }
  });

  it('skips a corrupt line in the middle with a count and keeps every other record', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const path = join(dir, 'found-blocks.jsonl');
      const a = sampleFound();
      const b = sampleFound();
      const c = sampleFound();
      await writeFile(
        path,
        [JSON.stringify(a), '{"type":"found", garbage', JSON.stringify(b), '{"type":"found"}', '', JSON.stringify(c), ''].join('\n'),
      );
      const warnings: string[] = [];
      const journal = await FoundBlockJournal.open(path, { warn: (m) => warnings.push(m) });
      assert.deepEqual((await journal.pending()).map((r) => r.hash), [a.hash, b.hash, c.hash]);
      assert.equal(warnings.length, 1);
      assert.match(warnings[0] ?? '', /skipped 2 unreadable line\(s\) \(line 2, 4\)/);
      await journal.close();
    } finally {
      await cleanup();
    }
  });

  it('pending() leaves out blocks with a final outcome and keeps inconclusive and unconfirmed ones', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const journal = await FoundBlockJournal.open(join(dir, 'found-blocks.jsonl'));
      const outcomes: (Outcome | undefined)[] = ['accepted', 'duplicate', 'rejected', 'stale', 'inconclusive', 'unconfirmed', undefined];
      const records = outcomes.map(() => sampleFound());
      for (const r of records) await journal.appendFound(r);
      for (const [i, outcome] of outcomes.entries()) {
        if (outcome === undefined) continue;
        await journal.appendOutcome({ type: 'outcome', time: new Date().toISOString(), hash: records[i]!.hash, outcome });
      }
      // A later final outcome settles a block that was inconclusive before.
      const later = sampleFound();
      await journal.appendFound(later);
      await journal.appendOutcome({ type: 'outcome', time: new Date().toISOString(), hash: later.hash, outcome: 'inconclusive' });
      await journal.appendOutcome({ type: 'outcome', time: new Date().toISOString(), hash: later.hash.toUpperCase(), outcome: 'accepted' });

      const pending = await journal.pending();
      assert.deepEqual(pending.map((r) => r.hash), [records[4]!.hash, records[5]!.hash, records[6]!.hash]);
      assert.deepEqual(pending[0], records[4]);
      await journal.close();
    } finally {
      await cleanup();
    }
  });

  it('concurrent appends land whole and in call order', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const path = join(dir, 'found-blocks.jsonl');
      const journal = await FoundBlockJournal.open(path);
      // Large records (~200 KB each, like full blocks) from many callers at once, plus reads.
      const records = Array.from({ length: 40 }, () => sampleFound({}, 100_000));
      const reads: Promise<unknown>[] = [];
      await Promise.all(
        records.map((r, i) => {
          if (i % 10 === 0) reads.push(journal.pending());
          return i % 2 === 0
            ? journal.appendFound(r)
            : journal.appendOutcome({ type: 'outcome', time: r.time, hash: r.hash, outcome: 'unconfirmed' }).then(() => journal.appendFound(r));
        }),
      );
      await Promise.all(reads);
      const scan = await journal.scan();
      assert.equal(scan.tornTail, false);
      assert.deepEqual(scan.corruptLines, []);
      assert.equal(scan.pending.length, records.length);
      // Every even record was appended by a caller that came before any later caller's append.
      const foundOrder = scan.records.filter((r) => r.type === 'found').map((r) => r.hash);
      const evens = records.filter((_, i) => i % 2 === 0).map((r) => r.hash);
      assert.deepEqual(foundOrder.filter((h) => evens.includes(h)), evens);
      assert.deepEqual(scan.pending.find((r) => r.hash === records[7]!.hash), records[7]);
      await journal.close();
    } finally {
      await cleanup();
    }
  });

  it('concurrent callers are served one at a time: each write is fsynced before the next starts', async () => {
    const { dir, cleanup } = await tempDir();
    const events: string[] = [];
    const spy = await spyOnFsync(join(dir, 'probe'), events, { writes: true });
    try {
      const journal = await FoundBlockJournal.open(join(dir, 'found-blocks.jsonl'));
      events.length = 0;
      const records = Array.from({ length: 8 }, () => sampleFound({}, 50_000));
      await Promise.all(records.map((r) => journal.appendFound(r)));
      // Unserialized appends would show write, write, ..., fsync, fsync, ...
      assert.deepEqual(events, records.flatMap(() => ['write', 'fsync:file']));
      // A read asked for right after an append sees it.
      const last = sampleFound();
      const appended = journal.appendFound(last);
      const pending = await journal.pending();
      await appended;
      assert.equal(pending.at(-1)?.hash, last.hash);
      await journal.close();
    } finally {
      spy.restore();
      await cleanup();
    }
  });

  it('appends to an existing journal, and rejects appends after close()', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const path = join(dir, 'found-blocks.jsonl');
      const first = sampleFound();
      const j1 = await FoundBlockJournal.open(path);
      await j1.appendFound(first);
      await j1.close();
      await j1.close(); // idempotent
      await assert.rejects(j1.appendFound(sampleFound()), JournalError);

      const j2 = await FoundBlockJournal.open(path);
      const second = sampleFound();
      await j2.appendFound(second);
      assert.deepEqual((await j2.pending()).map((r) => r.hash), [first.hash, second.hash]);
      await j2.close();
    } finally {
      await cleanup();
    }
  });

  describe('an unusable path gives one clear line', () => {
    // Tests run as root, where chmod does not stop writes; these paths fail for everyone.
    const oneLine = (path: string, detail: RegExp) => (err: unknown) => {
      assert.ok(err instanceof JournalError, `JournalError, got ${String(err)}`);
      assert.equal(err.path, path);
      assert.ok(!err.message.includes('\n'), 'one line');
      assert.ok(err.message.startsWith(`journal: cannot write ${path} (`), err.message);
      assert.match(err.message, detail);
      return true;
    };

    it('a parent that is a regular file (ENOTDIR)', async () => {
      const { dir, cleanup } = await tempDir();
      try {
        const file = join(dir, 'plain-file');
        await writeFile(file, 'x');
        const path = join(file, 'sub', 'found-blocks.jsonl');
        await assert.rejects(FoundBlockJournal.open(path), oneLine(path, /\(ENOTDIR: not a directory\)$/));
      } finally {
        await cleanup();
      }
    });

    it('a path under /proc', async () => {
      const path = '/proc/solominer-no-such-dir/found-blocks.jsonl';
      await assert.rejects(FoundBlockJournal.open(path), oneLine(path, /\((ENOENT|EACCES|EPERM|EROFS): [a-z ]+\)$/));
    });

    it('a path that is a folder (EISDIR) or not a regular file', async () => {
      const { dir, cleanup } = await tempDir();
      try {
        const folder = join(dir, 'found-blocks.jsonl');
        await mkdir(folder);
        await assert.rejects(FoundBlockJournal.open(folder), oneLine(folder, /\(EISDIR: illegal operation on a directory\)$/));
        await assert.rejects(FoundBlockJournal.open('/dev/null'), oneLine('/dev/null', /\(not a regular file\)$/));
      } finally {
        await cleanup();
      }
    });
  });

  it('a record written without its newline before a crash still counts', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const path = join(dir, 'found-blocks.jsonl');
      const whole = sampleFound();
      await appendFile(path, JSON.stringify(whole)); // no '\n'
      const warnings: string[] = [];
      const journal = await FoundBlockJournal.open(path, { warn: (m) => warnings.push(m) });
      const next = sampleFound();
      await journal.appendFound(next);
      assert.deepEqual((await journal.pending()).map((r) => r.hash), [whole.hash, next.hash]);
      assert.deepEqual(warnings, []);
      await journal.close();
    } finally {
      await cleanup();
    }
  });
});

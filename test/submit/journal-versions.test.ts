// The found-blocks journal across versions: a file written by the version before the block
// tracker (test/fixtures/journal/found-blocks-previous-version.jsonl, two regtest blocks mined by
// that version) still reads — pending, replay, the rewards view with the payout and value
// recovered from the block hex — and lines of record types a later version may add are skipped
// without being called corrupt.
import assert from 'node:assert/strict';
import { appendFile, copyFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

import { foldJournal } from '../../src/submit/block-tracker.js';
import { FoundBlockJournal, readJournal } from '../../src/submit/found-block-journal.js';
import { runCli } from '../support/cli.js';
import { sampleFound, tempDir } from '../support/files.js';

/** Runs `fn` with the path of a journal file in a fresh folder (removed afterwards). */
async function inTempDir(fn: (path: string) => Promise<void>): Promise<void> {
  const { dir, cleanup } = await tempDir();
  try {
    await fn(join(dir, 'found-blocks.jsonl'));
  } finally {
    await cleanup();
  }
}

const FIXTURE = fileURLToPath(new URL('../../../test/fixtures/journal/found-blocks-previous-version.jsonl', import.meta.url));
const PAYOUT = 'bcrt1qpcpt6s6x8ra0ff889w56kyz8wuj8udwtw7wm45';

describe('found-blocks journal versions', { timeout: 60_000 }, () => {
  it("reads the previous version's journal: nothing pending, every block with its payout, value and maturity height", async () => {
    await inTempDir(async (path) => {
      await copyFile(FIXTURE, path);
      const warnings: string[] = [];
      const journal = await FoundBlockJournal.open(path, { warn: (m) => warnings.push(m) });
      assert.deepEqual(await journal.pending(), []);
      const scan = await journal.scan();
      assert.deepEqual([scan.records.length, scan.corruptLines, scan.unknownLines, scan.tornTail], [4, [], [], false]);
      const view = foldJournal(scan.records);
      assert.deepEqual(
        view.blocks.map((b) => [b.height, b.status, b.address, b.coinbaseValue, b.subsidy, b.fees, b.maturityHeight, b.engine]),
        [
          [1, 'accepted', PAYOUT, 50e8, 50e8, 0, 100, 'cpu'],
          [2, 'accepted', PAYOUT, 50e8, 50e8, 0, 101, 'cpu'],
        ],
      );
      assert.equal(view.tip, null);

      // This version appends its own records to it; the old lines stay as they were.
      const hash = view.blocks[0]!.hash;
      await journal.append({ type: 'status', time: new Date().toISOString(), hash, status: 'orphaned', confirmations: -1, tipHeight: 3, reason: 'not in the active chain' });
      await journal.close();
      assert.ok((await readFile(path, 'utf8')).startsWith(await readFile(FIXTURE, 'utf8')));
      const again = foldJournal((await readJournal(path))!.records);
      assert.deepEqual(again.blocks.map((b) => b.status), ['orphaned', 'accepted']);
      assert.deepEqual(warnings, []);

      // The rewards view of it, with the miner stopped.
      const cli = await runCli(['blocks', '--journal', path, '--json']);
      assert.equal(cli.code, 0, cli.stderr);
      const report = JSON.parse(cli.stdout) as { source: string; network: string; blocks: Array<{ status: string; value: string }>; totals: { orphaned: { btc: string }; immature: { btc: string }; won: number; lost: number } };
      assert.equal(report.source, 'journal');
      assert.equal(report.network, 'regtest');
      assert.deepEqual(report.blocks.map((b) => [b.status, b.value]), [['orphaned', '50.00000000'], ['accepted', '50.00000000']]);
      assert.deepEqual([report.totals.orphaned.btc, report.totals.immature.btc, report.totals.won, report.totals.lost], ['50.00000000', '50.00000000', 1, 1]);
    });
  });

  it('skips record types it does not know (a later version) without calling them corrupt; extra fields are kept', async () => {
    await inTempDir(async (path) => {
      const found = { ...sampleFound(), payoutSplit: [{ to: 'x', share: 1 }] };
      await appendFile(path, `${JSON.stringify(found)}\n${JSON.stringify({ type: 'payout', time: found.time, hash: found.hash, txid: 'ab' })}\nnot json\n`);
      const warnings: string[] = [];
      const journal = await FoundBlockJournal.open(path, { warn: (m) => warnings.push(m) });
      const scan = await journal.scan();
      assert.deepEqual(scan.unknownLines, [2]);
      assert.deepEqual(scan.corruptLines, [3]);
      assert.deepEqual((await journal.pending()).map((r) => r.hash), [found.hash]);
      assert.equal(warnings.length, 1);
      assert.match(warnings[0]!, /skipped 1 unreadable line\(s\) \(line 3\)/);
      await journal.close();
    });
  });

  it('status and tip records: read back, a block with a status is no longer pending, a malformed one is corrupt', async () => {
    await inTempDir(async (path) => {
      const journal = await FoundBlockJournal.open(path);
      const a = sampleFound({ height: 10 });
      const b = sampleFound({ height: 11 });
      await journal.appendFound(a);
      await journal.appendFound(b);
      await journal.append({ type: 'status', time: new Date().toISOString(), hash: a.hash, status: 'confirmed', confirmations: 2, tipHeight: 11 });
      await journal.append({ type: 'tip', time: new Date().toISOString(), height: 40, hash: 'ff'.repeat(32) });
      await appendFile(path, `${JSON.stringify({ type: 'status', time: a.time, hash: a.hash, status: 'lost', confirmations: 1, tipHeight: 1 })}\n`);
      const scan = await journal.scan();
      assert.deepEqual(scan.corruptLines, [5]);
      assert.deepEqual(scan.pending.map((r) => r.hash), [b.hash]);
      const view = foldJournal(scan.records);
      assert.equal(view.blocks[0]!.confirmations, 31, 'confirmed at the tip line: 40 - 10 + 1');
      assert.equal(view.blocks[1]!.status, 'found');
      assert.equal(view.tip?.height, 40);
      await journal.close();
    });
  });
});

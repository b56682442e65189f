// kill -9 of a `solominer mine` process between block transitions loses none of them: a miner
// (a child process, mining on regtest) is killed right after it journaled a transition; while it
// is down its blocks are orphaned (invalidateblock, a longer rival chain); the restarted miner
// records that at start-up; `blocks --json` then shows every block and its fate from the journal
// alone, from the node, and — with the node stopped — says what the journal last knew.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';

import { foldJournal, type TrackedBlock } from '../../src/submit/block-tracker.js';
import { readJournal } from '../../src/submit/found-block-journal.js';
import { BIN, runCli } from '../support/cli.js';
import { nextEvent } from '../support/events.js';
import { mineArgs, scratchDir } from '../support/mining.js';
import { mineTo, regtestSuite } from '../support/regtest.js';

interface Miner {
  readonly child: ChildProcess;
  /** Every stderr line (the text log), as a 'line' event. */
  readonly lines: EventEmitter;
  readonly log: string[];
}

const started: Miner[] = [];

function startMiner(args: string[]): Miner {
  // The CLI itself, not a copy re-run for software Vulkan (bin/solominer.js): the process killed
  // is the miner. Its own process group, so that a failed test can end it and all it started.
  const child = spawn(process.execPath, [BIN, 'mine', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, SOLOMINER_NO_LAVAPIPE: '1' },
    detached: true,
  });
  const lines = new EventEmitter();
  const log: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => {
    log.push(line);
    lines.emit('line', line);
  });
  const miner = { child, lines, log };
  started.push(miner);
  return miner;
}

async function kill9(m: Miner): Promise<void> {
  if (m.child.exitCode !== null || m.child.signalCode !== null) return;
  const exited = new Promise((resolve) => m.child.once('exit', resolve));
  process.kill(-m.child.pid!, 'SIGKILL');
  await exited;
}

interface BlocksJson {
  source: string;
  nodeError: string | null;
  blocks: Array<{ hash: string; height: number; status: string; confirmations: number | null }>;
}

describe('blocks across kill -9 and restart (regtest, child processes)', { timeout: 240_000 }, () => {
  // Registered first, so it runs before the node is stopped.
  after(() => Promise.all(started.map(kill9)));
  const suite = regtestSuite(2);

  it('transitions journaled before a kill survive it; those that happened while down are recorded at restart; blocks says what it knows, node up or down', async (t) => {
    const { node } = suite;
    const [address, rival] = suite.addresses as [string, string];
    const dir = await scratchDir();
    const journal = join(dir, 'found-blocks.jsonl');
    const args = mineArgs(node, address, dir, ['--threads', '1']);
    const nodeFlags = ['--network', 'regtest', '--rpc-url', node.rpcUrl, '--rpc-cookie', node.cookiePath];
    const blocks = async (extra: string[], code = 0): Promise<BlocksJson> => {
      const r = await runCli(['blocks', '--journal', journal, ...extra, '--json']);
      assert.equal(r.code, code, r.stderr);
      return JSON.parse(r.stdout) as BlocksJson;
    };

    // 1. A miner runs until the tracker has journaled a transition (its log line follows the
    //    fsync), and is killed there.
    const first = startMiner(args);
    await nextEvent<[string]>(first.lines, 'line', (l) => / → confirmed \(/.test(l), 60_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${first.log.join('\n')}`);
    });
    await kill9(first);
    const before = await readFile(journal, 'utf8');
    const known = foldJournal((await readJournal(journal))!.records).blocks;
    // The newest block may have been killed between found and the node's answer: it is replayed at restart.
    const onChain = known.filter((b) => b.status === 'accepted' || b.status === 'confirmed');
    assert.ok(known.some((b) => b.status === 'confirmed'), `the transition journaled before the kill is there: ${known.map((b) => `${b.height}:${b.status}`).join(' ')}`);

    // 2. While it is down, its blocks leave the active chain: the earliest one is invalidated
    //    (so are all above it) and a longer rival chain is mined.
    const earliest = onChain.reduce((a, b) => (b.height < a.height ? b : a));
    const tipBefore = await node.rpc.call<number>('getblockcount');
    await node.rpc.call('invalidateblock', earliest.hash);
    await mineTo(node, rival, tipBefore - earliest.height + 2);
    const lost = onChain.filter((b) => b.height >= earliest.height);
    // Blocks found above it but not yet answered when killed: replayed, then lost with it.
    const unanswered = known.filter((b) => b.height > earliest.height && !lost.includes(b));

    // 3. The restarted miner finds that out at start-up, journals each (it logs after the fsync;
    //    one check's changes are one write) and is killed again.
    const second = startMiner(args);
    const orphanedHeights = new Set<number>();
    await nextEvent<[string]>(
      second.lines,
      'line',
      (l) => {
        const m = /block (\d+) \w+ → orphaned/.exec(l);
        if (m) orphanedHeights.add(Number(m[1]));
        return lost.every((b) => orphanedHeights.has(b.height));
      },
      60_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${second.log.join('\n')}`);
    });
    await kill9(second);
    const afterRestart = await readFile(journal, 'utf8');
    assert.ok(afterRestart.startsWith(before), 'the restart appended: nothing of the first run was lost or rewritten');

    // 4. blocks --json from the journal alone, then from the node: every block of the first run, each with its fate.
    const status = (report: BlocksJson, b: TrackedBlock) => report.blocks.find((x) => x.hash === b.hash)?.status;
    const offline = await blocks([]);
    assert.equal(offline.source, 'journal');
    for (const b of known) assert.ok(offline.blocks.some((x) => x.hash === b.hash), `block ${b.height} is listed`);
    for (const b of lost) assert.equal(status(offline, b), 'orphaned', `block ${b.height}`);
    for (const b of unanswered) assert.ok(['orphaned', 'rejected'].includes(status(offline, b) ?? ''), `unanswered block ${b.height}: ${status(offline, b)}`);
    const online = await blocks(nodeFlags);
    assert.equal(online.source, 'node');
    for (const b of lost) assert.equal(status(online, b), 'orphaned');
    for (const b of online.blocks.filter((x) => x.status === 'orphaned')) {
      assert.equal((await node.rpc.call<{ confirmations: number }>('getblockheader', b.hash)).confirmations, -1, `block ${b.height} is off the active chain`);
    }

    // 5. The node down: blocks says what the journal last knew, and that it could not ask (exit 1).
    await node.stop();
    const down = await blocks(nodeFlags, 1);
    assert.equal(down.source, 'journal');
    assert.ok(down.nodeError !== null && down.nodeError.length > 0);
    assert.deepEqual(
      down.blocks.map((b) => [b.hash, b.status]),
      offline.blocks.map((b) => [b.hash, b.status]),
    );
    const text = await runCli(['blocks', '--journal', journal, ...nodeFlags]);
    assert.equal(text.code, 1);
    assert.match(text.stdout, /node unreachable \(.*\); showing what the journal last knew/);
    t.diagnostic(`first run: ${known.length} blocks found before the kill (${unanswered.length} not yet answered); ${lost.length} orphaned while it was down, recorded at restart`);
  });
});

// A cookie file the miner may not read is a configuration problem, not a node that is still
// starting: `mine` says so at once in one line naming --rpc-cookie, exit 2, instead of waiting out
// --connect-timeout (a cookie not written yet is still waited for). As root (the tests' user
// here) permissions cannot deny a read, so the folder case (EISDIR) stands in; the container test
// (test/container/) shows EACCES for a non-root user.
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { waitForNode } from '../../src/node/node-checks.js';
import { NodeCookieError, NodeUnreachableError } from '../../src/node/errors.js';
import { RpcClient } from '../../src/node/rpc-client.js';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/files.js';

const ADDRESS = 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080';
const CLEAN_ENV: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SOLOMINER_')));

describe('an unreadable RPC cookie', { timeout: 60_000 }, () => {
  it('is a NodeCookieError that waitForNode does not wait on; a missing one is waited on', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const folder = join(dir, '.cookie');
      await mkdir(folder);
      const rpc = new RpcClient({ url: 'http://127.0.0.1:1', credentials: { kind: 'cookie', path: folder } });
      const t0 = performance.now();
      await assert.rejects(waitForNode(rpc, 20_000), (err: unknown) => err instanceof NodeCookieError && err.code === 'EISDIR' && err.path === folder);
      assert.ok(performance.now() - t0 < 10_000, 'no waiting on a cookie that cannot be read');
      // Still an unreachable node to code that retries after start-up.
      assert.ok(new NodeCookieError('http://x', folder, 'EACCES') instanceof NodeUnreachableError);

      const missing = new RpcClient({ url: 'http://127.0.0.1:1', credentials: { kind: 'cookie', path: join(dir, 'nope') } });
      await assert.rejects(waitForNode(missing, 300), (err: unknown) => !(err instanceof NodeCookieError) && /ENOENT\); gave up after 0 s/.test((err as Error).message));
    } finally {
      await cleanup();
    }
  });

  it('mine: one line naming --rpc-cookie, exit 2', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const folder = join(dir, '.cookie');
      await mkdir(folder);
      const r = await runCli(['mine', '--network', 'regtest', '--address', ADDRESS, '--rpc-url', 'http://127.0.0.1:1', '--rpc-cookie', folder, '--report-dir', join(dir, 'reports'), '--connect-timeout', '30'], {
        env: CLEAN_ENV,
        timeoutMs: 25_000,
      });
      assert.equal(r.code, 2, r.stderr);
      const last = r.stderr.trim().split('\n').at(-1);
      assert.match(last ?? '', /^solominer mine: --rpc-cookie: cannot read .*\.cookie \(EISDIR\)( as uid \d+)?: let this user read it \(bitcoind -rpccookieperms=group and the node's group\) or give --rpc-user and --rpc-password$/);
    } finally {
      await cleanup();
    }
  });
});

// The `scan` and `bench` command-line contract (docs/cli.md): output shapes, exit codes, and
// one line naming the flag for every bad input.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { cpuBackends } from '../../src/engines/cpu-engine.js';
import { runCli } from '../support/cli.js';
import { knownBlocks, knownHeader } from '../support/reference.js';

const genesis = knownBlocks()[0]!;
const GENESIS = Buffer.from(knownHeader(genesis)).toString('hex');

describe('solominer scan', { timeout: 60_000 }, () => {
  it('finds the genesis nonce and prints the docs/cli.md JSON', async () => {
    const r = await runCli(['scan', '--header', GENESIS, '--start', String(genesis.nonce - 1000), '--count', '2000', '--bits', '1d00ffff', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.deepEqual(Object.keys(out).sort(), ['backend', 'engine', 'found', 'hashes', 'seconds']);
    assert.equal(out.engine, 'cpu');
    assert.equal(out.backend, cpuBackends().find((b) => b.usable)!.name);
    assert.equal(out.hashes, 2000);
    assert.deepEqual(out.found, [{ nonce: genesis.nonce, hash: genesis.hash }]);
  });

  it('accepts --target and forced back ends and threads, printing text without --json', async () => {
    const target = `00000000ffff${'0'.repeat(52)}`;
    const r = await runCli(['scan', '--header', GENESIS, '--start', String(genesis.nonce), '--count', '1', '--target', target, '--backend', 'scalar', '--threads', '1']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `nonce ${genesis.nonce} hash ${genesis.hash}\n`);
    assert.match(r.stderr, /cpu\/scalar x1: 1 hashes/);
  });

  const bad: Array<[string, string[], RegExp]> = [
    ['a short header', ['--header', GENESIS.slice(2), '--bits', '1d00ffff'], /^solominer scan: --header: expected 160 hex digits/],
    ['a non-hex header', ['--header', `zz${GENESIS.slice(2)}`, '--bits', '1d00ffff'], /--header: expected 160 hex digits, got a non-hex/],
    ['no header', ['--bits', '1d00ffff'], /--header: required/],
    ['a short target', ['--header', GENESIS, '--target', 'ffff'], /--target: expected 64 hex digits/],
    ['both target and bits', ['--header', GENESIS, '--target', 'f'.repeat(64), '--bits', '1d00ffff'], /exactly one of --target/],
    ['neither target nor bits', ['--header', GENESIS], /exactly one of --target/],
    ['malformed bits', ['--header', GENESIS, '--bits', '1d00fff'], /--bits: expected 8 hex digits/],
    ['negative bits', ['--header', GENESIS, '--bits', '1d80ffff'], /--bits: .*negative/],
    ['a count of 0', ['--header', GENESIS, '--bits', '1d00ffff', '--count', '0'], /--count: expected an integer 1\.\.4294967296/],
    ['a count over 2^32', ['--header', GENESIS, '--bits', '1d00ffff', '--count', '4294967297'], /--count: expected/],
    ['a range past 0xffffffff', ['--header', GENESIS, '--bits', '1d00ffff', '--start', '4294967200', '--count', '97'], /--count: the range ends past nonce 4294967295/],
    ['an unknown back end', ['--header', GENESIS, '--bits', '1d00ffff', '--backend', 'quantum'], /--backend: expected one of/],
    ['an unknown engine', ['--header', GENESIS, '--bits', '1d00ffff', '--engine', 'fpga'], /--engine: expected cpu or gpu/],
    ['an unknown flag', ['--header', GENESIS, '--bits', '1d00ffff', '--frob'], /--frob: unknown flag; scan --help lists the flags/],
  ];
  for (const [what, args, pattern] of bad) {
    it(`rejects ${what} with one line and exit 2`, async () => {
      const r = await runCli(['scan', ...args]);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stdout, '');
      assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, pattern);
      assert.doesNotMatch(r.stderr, /\bat .*\.js:\d+/, 'no stack trace');
    });
  }

  it('rejects a back end this machine cannot run with exit 2, saying why', async () => {
    // Every build lists every back end; on any one machine at least one (x86 or ARM) is out.
    const missing = cpuBackends().find((b) => !b.usable)!;
    assert.ok(missing, 'some back end is unavailable on every machine');
    const r = await runCli(['scan', '--header', GENESIS, '--bits', '1d00ffff', '--backend', missing.name]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, new RegExp(`--backend: ${missing.name} is not available here \\(${missing.reason.replace(/[()/]/g, '.')}\\)`));
  });
});

describe('solominer bench', { timeout: 60_000 }, () => {
  it('prints one docs/cli.md JSON row per usable back end', async () => {
    const r = await runCli(['bench', '--seconds', '0.2', '--threads', '1', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(
      rows.map((row) => row.backend),
      cpuBackends().filter((b) => b.usable).map((b) => b.name),
    );
    for (const row of rows) {
      assert.deepEqual(Object.keys(row).sort(), ['backend', 'engine', 'hashes', 'hashesPerSecond', 'seconds', 'threads', 'versions']);
      assert.equal(row.engine, 'cpu');
      // Each back end is measured as it mines: with its own number of versions per nonce.
      assert.equal(row.versions, cpuBackends().find((b) => b.name === row.backend)!.versions);
      assert.equal(row.threads, 1);
      assert.ok((row.hashes as number) > 0);
      assert.ok(Math.abs((row.hashesPerSecond as number) - (row.hashes as number) / (row.seconds as number)) < 1e-6 * (row.hashesPerSecond as number) + 1);
    }
  });

  it('rejects a bad --seconds with exit 2', async () => {
    const r = await runCli(['bench', '--seconds', 'soon']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--seconds: expected a number/);
  });
});

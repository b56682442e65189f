// The command-line contract on commander (docs/cli.md): every command's --help reads as
// documentation generated from the field table, --version, exit codes, one line per bad input,
// and no secret ever echoed — also not through commander's own error paths.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

import { MINE_FIELDS } from '../../src/config/mine-config.js';
import { runCli } from '../support/cli.js';

const SECRET = 'hunter2-not-shown';
const COMMANDS = ['mine', 'demo', 'check', 'status', 'stop', 'report', 'blocks', 'scan', 'bench', 'tune'];

describe('command line', { timeout: 120_000 }, () => {
  it('solominer --help lists every command; no command at all prints it and exits 2', async () => {
    const help = await runCli(['--help']);
    assert.equal(help.code, 0);
    for (const c of COMMANDS) assert.match(help.stdout, new RegExp(`^  ${c} `, 'm'), c);
    const bare = await runCli([]);
    assert.equal(bare.code, 2);
    assert.match(bare.stdout, /Usage: solominer/);
  });

  it('--version prints the package version', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    const r = await runCli(['--version']);
    assert.equal(r.code, 0);
    assert.equal(r.stdout.trim(), pkg.version);
  });

  it('mine --help: every field of the table with its description, default and variable', async () => {
    const r = await runCli(['mine', '--help'], { env: { ...process.env, COLUMNS: '300' } });
    assert.equal(r.code, 0);
    // One option per line at this width: the line holds the flag, its help, its default and its variable.
    for (const f of MINE_FIELDS) {
      const line = r.stdout.split('\n').find((l) => l.trimStart().startsWith(`--${f.flag}`));
      assert.ok(line, `--${f.flag} is listed`);
      assert.ok(line.includes(f.help), `--${f.flag} has its description`);
      assert.ok(line.includes(`[${f.env}]`), `--${f.flag} names ${f.env}`);
      if (f.defaultText !== undefined) assert.ok(line.includes(`(default: ${f.defaultText})`), `--${f.flag} names its default`);
    }
    assert.match(r.stdout, /--config <file>/);
  });

  it('every command answers --help with its flags and exit 0', async () => {
    for (const c of COMMANDS) {
      const r = await runCli([c, '--help']);
      assert.equal(r.code, 0, c);
      assert.match(r.stdout, new RegExp(`Usage: solominer ${c}`), c);
      assert.equal(r.stderr, '', c);
    }
    const viaHelp = await runCli(['help', 'scan']);
    assert.equal(viaHelp.code, 0);
    assert.match(viaHelp.stdout, /--header <hex>/);
  });

  it('an unknown command, an unknown flag (with a suggestion), a missing value: one line, exit 2', async () => {
    const cases: Array<[string[], string]> = [
      [['frob'], 'solominer: unknown command "frob"; expected one of mine, demo, check, status, stop, report, blocks, scan, bench, tune'],
      [['mine', '--thread', '2'], 'solominer mine: --thread: unknown flag (did you mean --threads?); mine --help lists the flags'],
      [['mine', '--threads'], 'solominer mine: --threads: expected an integer 1..1024, got nothing'],
      [['check', '--frob'], 'solominer check: --frob: unknown flag; check --help lists the flags'],
      [['status', '--url'], 'solominer status: --url: expected <url>, got nothing'],
      [['mine', '--threads', '2', 'stray'], 'solominer mine: unexpected argument "stray"; mine takes only flags (--name value)'],
    ];
    for (const [args, line] of cases) {
      const r = await runCli(args);
      assert.equal(r.code, 2, args.join(' '));
      assert.equal(r.stderr, `${line}\n`, args.join(' '));
    }
  });

  it('never echoes a password: not after a stray word, not as a missing value, not in a bad flag', async () => {
    const cases: string[][] = [
      ['mine', '--rpc-password', SECRET, 'words'],
      ['mine', `--rpc-password=${SECRET}`, '--frob'],
      ['mine', '--rpc-user', 'u', '--rpc-password', SECRET, '--threads', 'x'],
      ['check', '--rpc-password', SECRET, 'trailing'],
    ];
    for (const args of cases) {
      const r = await runCli(args, { env: { ...process.env, SOLOMINER_ADDRESS: '' } });
      assert.equal(r.code, 2, args.join(' '));
      assert.equal(r.stderr.split('\n').filter(Boolean).length, 1, r.stderr);
      assert.ok(!r.stderr.includes(SECRET) && !r.stdout.includes(SECRET), `${args.join(' ')}: ${r.stderr}`);
    }
  });

  it('a password that starts with a dash is taken as the value, not as a flag', async () => {
    const r = await runCli(['mine', '--rpc-user', 'u', '--rpc-password', `-${SECRET}`, '--network', 'regtest', '--address', 'not-an-address'], {
      env: { ...process.env, SOLOMINER_CONFIG: '/nonexistent-solominer.json' },
    });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /SOLOMINER_CONFIG: file not found/);
    assert.ok(!r.stderr.includes(SECRET));
  });

  it('mainnet is accepted for main', async () => {
    // Fails later (an address of another network) — after the network was accepted as main.
    const r = await runCli(['mine', '--network', 'mainnet', '--address', 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080', '--connect-timeout', '0'], {
      env: { ...process.env, SOLOMINER_CONFIG: '' },
    });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--address: .*mainnet/);
    assert.doesNotMatch(r.stderr, /--network/);
  });
});

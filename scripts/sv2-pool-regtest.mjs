#!/usr/bin/env node
// A solominer Stratum V2 pool on a private regtest node, for interoperability runs with other
// miners' code (docs/stratum.md, "Stratum V2"): starts a regtest bitcoind (scripts/provision.mjs
// provides one), then `mine --engines none --sv2-port …` against it, and prints one JSON line with
// what a miner needs (host, port, authority key, the stratum2+tcp:// URL) and the node's RPC.
// Runs until Ctrl-C.
//
//   node scripts/sv2-pool-regtest.mjs [--sv2-port 34254] [--sv2-host 0.0.0.0] [--stratum-port 3333]
//        [--seed <text> [--now <unix seconds>]] [-- more mine flags]
//
// --seed fixes every key (authority, static, each handshake's ephemeral: the n-th connection
// gets deterministicEllswiftKey(seed, "ephemeral n"), the certificate signed with zero auxiliary
// randomness at --now), so a recorded transcript replays byte for byte. Test keys only: with
// --seed the authority key file is not used, and the keys are as public as the seed.
import { createECDH } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { p2wpkh, TEST_NETWORK } from '@scure/btc-signer';

import { provisionOrExit } from './provision.mjs';

const { values, positionals } = parseArgs({
  options: {
    'sv2-port': { type: 'string', default: '34254' },
    'sv2-host': { type: 'string', default: '127.0.0.1' },
    'stratum-port': { type: 'string' },
    seed: { type: 'string' },
    now: { type: 'string' },
  },
  allowPositionals: true,
});
Object.assign(process.env, provisionOrExit());

const { LocalNode } = await import('../dist/src/devnode/local-node.js');
const { loadMineConfig } = await import('../dist/src/config/load-config.js');
const { runMineService } = await import('../dist/src/miner/service.js');
const { deterministicEllswiftKey } = await import('../dist/src/stratum/v2/noise.js');

const ecdh = createECDH('secp256k1');
ecdh.generateKeys();
const operator = p2wpkh(Uint8Array.from(ecdh.getPublicKey(undefined, 'compressed')), { ...TEST_NETWORK, bech32: 'bcrt' }).address;
const dir = await mkdtemp(join(tmpdir(), 'solominer-sv2-regtest-'));
const node = await LocalNode.start({ network: 'regtest' });
const abort = new AbortController();
process.once('SIGINT', () => abort.abort());
process.once('SIGTERM', () => abort.abort());
try {
  const config = await loadMineConfig({
    argv: ['--network', 'regtest', '--rpc-url', node.rpcUrl, '--rpc-cookie', node.cookiePath, '--zmq', node.zmqEndpoint, '--address', operator, '--engines', 'none',
      '--sv2-port', values['sv2-port'], '--sv2-host', values['sv2-host'], ...(values['stratum-port'] ? ['--stratum-port', values['stratum-port']] : []),
      '--journal', join(dir, 'found-blocks.jsonl'), '--report-dir', join(dir, 'reports'), ...positionals],
    env: {},
    cwd: dir,
  });
  let n = 0;
  const seed = values.seed;
  const sv2Keys = seed === undefined ? undefined : {
    authoritySecret: deterministicEllswiftKey(seed, 'authority').secret,
    staticKey: deterministicEllswiftKey(seed, 'static'),
    ephemeral: () => deterministicEllswiftKey(seed, `ephemeral ${n++}`),
    auxRand: new Uint8Array(32),
    nowSeconds: () => (values.now ? Number(values.now) : Math.floor(Date.now() / 1000)),
  };
  const summary = await runMineService({
    config,
    log: (level, msg, fields) => process.stderr.write(`${level} ${msg}${fields ? ` ${JSON.stringify(fields)}` : ''}\n`),
    signal: abort.signal,
    ...(sv2Keys && { sv2Keys }),
    onStarted: ({ pool }) => {
      const sv2 = pool?.sv2;
      console.log(JSON.stringify({ sv2, v1: pool?.url || null, operator, rpcUrl: node.rpcUrl, cookie: node.cookiePath, dir, seed: seed ?? null }));
    },
  });
  process.stderr.write(`stopped: ${JSON.stringify(summary.stats.outcomes)}\n`);
} finally {
  await node.stop();
  await rm(dir, { recursive: true, force: true });
}

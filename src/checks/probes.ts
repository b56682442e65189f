// The items `check`, `mine --smoke-test` and `mine --smoke-network` share: each probes one
// thing, adds its line to the checklist and returns what later items need (undefined when it
// failed, so they can say `skip` instead of failing again for the same cause).
import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join, relative, isAbsolute } from 'node:path';

import { schnorr } from '@noble/curves/secp256k1.js';

import { addressToScript, type PayoutScript } from '../bitcoin/address.js';
import { BitcoinError } from '../bitcoin/errors.js';
import { payoutAddressOf, payoutAddressOptional, type MineConfig } from '../config/mine-config.js';
import { cpuBackends, CpuEngine } from '../engines/cpu-engine.js';
import type { Engine } from '../engines/engine.js';
import { checkKnownAnswers } from '../engines/known-answers.js';
import { DEFAULT_TUNING, parseTuningLabel } from '../engines/gpu/tuning.js';
import { formatCelsius, ThermalSensors, type ThermalSources } from '../engines/thermal.js';
import { readPidFile } from '../miner/pid-file.js';
import { authorityKeyPath } from '../miner/pool.js';
import { nativeAddon, nativeAddonOrigin } from '../native/addon.js';
import { NodeAuthError, NodeStateError, RpcError } from '../node/errors.js';
import { checkZmq, NodeConnectTimeoutError, waitForNode, type ChainInfo } from '../node/node-checks.js';
import { NETWORK_INFO, networkOfChain } from '../node/networks.js';
import type { RpcClient } from '../node/rpc-client.js';
import { loadOrCreateAuthority } from '../stratum/v2/authority.js';
import { encodeAuthorityKey } from '../stratum/v2/certificate.js';
import { AuthorityKeyError } from '../stratum/v2/errors.js';
import { sv2Url } from '../stratum/v2/server.js';
import { FoundBlockJournal, JournalError } from '../submit/found-block-journal.js';
import type { Checklist } from './checklist.js';

export function errorText(err: unknown): string {
  return err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err);
}

export function describeMs(ms: number): string {
  return ms < 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`;
}

/** Promise with a time limit; `what` names the thing that took too long. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: no answer within ${Math.round(ms / 1000)} s`)), ms);
        timer.unref();
      }),
    ]);
  } finally {
    if (timer) clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------------
// This machine

/**
 * Which addon file loaded (a build from source or the package's prebuilt) and what it passed
 * over; false when none loads (the CPU lines that follow would only repeat why).
 */
export function probeNativeAddon(list: Checklist): boolean {
  try {
    const origin = nativeAddonOrigin();
    const what = origin.kind === 'source' ? 'built from source' : `the prebuilt for ${origin.target}`;
    const text = `${what} (${origin.path})`;
    if (origin.notes.length > 0) list.warn('native engine', `${text}; ${origin.notes.join('; ')}`);
    else list.ok('native engine', text);
    return true;
  } catch (err) {
    list.fail('native engine', errorText(err));
    return false;
  }
}

/** CPU features the addon detected, for `check`. */
export function probeCpuFeatures(list: Checklist): void {
  try {
    const f = nativeAddon().cpuFeatures();
    const names: [boolean, string][] = [
      [f.sse41, 'sse4.1'],
      [f.ssse3, 'ssse3'],
      [f.shaNi, 'sha-ni'],
      [f.avx2, 'avx2'],
      [f.avx512f, 'avx512f'],
      [f.avx512vl, 'avx512vl'],
      [f.armSha2, 'armv8-sha2'],
    ];
    const have = names.filter(([on]) => on).map(([, n]) => n);
    list.ok('cpu features', have.length > 0 ? have.join(', ') : 'none of the accelerated ones (the scalar back end works everywhere)');
  } catch (err) {
    list.fail('cpu features', errorText(err));
  }
}

/** The CPU back end the miner would choose, and the others. A fail only when cpu is in --engines. */
export function probeCpuBackend(list: Checklist, config: MineConfig, withUnusable = true): void {
  const label = 'cpu back end';
  const wanted = config.engines.includes('cpu');
  try {
    const all = cpuBackends();
    const usable = all.filter((b) => b.usable);
    let best = usable[0];
    if (!best) {
      (wanted ? list.fail : list.warn).call(list, label, 'no usable CPU back end (even scalar failed its self-test)');
      return;
    }
    if (config.cpuBackend !== undefined) {
      const named = all.find((b) => b.name === config.cpuBackend);
      if (named === undefined || !named.usable) {
        const why = named === undefined ? `expected one of ${all.map((b) => b.name).join(', ')}` : `not available here (${named.reason})`;
        (wanted ? list.fail : list.warn).call(list, label, `--cpu-backend ${config.cpuBackend}: ${why}`);
        return;
      }
      best = named;
    }
    const broken = all.filter((b) => b.state === 'self-test-failed');
    if (broken.length > 0) {
      // The CPU has the instructions, the code disagrees with the reference: a bug to report.
      list.warn(
        label,
        `${broken.map((b) => b.name).join(', ')} failed the self-test against the scalar reference on a CPU that supports it; ` +
          `using ${best.description} instead (please report this)`,
      );
    }
    const others = usable.filter((b) => b !== best).map((b) => b.description);
    const missing = withUnusable ? all.filter((b) => !b.usable).map((b) => `${b.name}: ${b.reason}`) : [];
    list.ok(
      label,
      `${best.description}${others.length > 0 ? ` (also ${others.join(', ')})` : ''}` +
        `${missing.length > 0 ? `; not here: ${missing.join('; ')}` : ''}` +
        `${wanted ? `, ${config.threads} thread${config.threads === 1 ? '' : 's'}${describeGovernance(config)}` : ' (cpu is not in --engines)'}`,
    );
  } catch (err) {
    (wanted ? list.fail : list.warn).call(list, label, errorText(err));
  }
}

/**
 * Version rolling (software AsicBoost): on or off, and how many versions per scan each engine
 * in --engines hashes (the CPU back end's measured K, the GPU tuning's v<n>). Rolling happens
 * only on work whose template (or pool) allows BIP320's bits; the miner says so per job.
 */
export function probeVersionRolling(list: Checklist, config: MineConfig): void {
  const label = 'version rolling';
  if (config.engines.length === 0) {
    list.ok(label, 'no engine hashes here (--engines none)');
    return;
  }
  if (config.noVersionRolling) {
    list.ok(label, 'off (--no-version-rolling): every engine hashes one version per nonce');
    return;
  }
  const per: string[] = [];
  try {
    if (config.engines.includes('cpu')) {
      const usable = cpuBackends().filter((b) => b.usable);
      const b = usable.find((x) => x.name === config.cpuBackend) ?? usable[0];
      if (b) per.push(`cpu/${b.name} ${b.versions}`);
    }
  } catch (err) {
    per.push(`cpu unknown (${errorText(err)})`);
  }
  if (config.engines.includes('gpu')) {
    const tuning = (config.gpuTuning === undefined ? undefined : parseTuningLabel(config.gpuTuning)) ?? DEFAULT_TUNING;
    per.push(`gpu ${tuning.versions}`);
  }
  const where = config.pool !== undefined ? 'when the pool grants all of them' : "when the template's version leaves them free";
  list.ok(label, `on: BIP320 bits 1fffe000 ${where}; versions per scan ${per.join(', ')}`);
}

/** ", 1 core reserved, pinned to 0,2, priority idle, at most 50% of a core each": what is set. */
function describeGovernance(config: MineConfig): string {
  const parts: string[] = [];
  if (config.cpuBackend !== undefined) parts.push('back end set by --cpu-backend');
  if (config.reserveCores !== undefined && config.reserveCores > 0) parts.push(`${config.reserveCores} core${config.reserveCores === 1 ? '' : 's'} reserved`);
  if (config.cpuAffinity !== undefined) parts.push(`pinned to CPUs ${config.cpuAffinity.join(',')}`);
  if (config.cpuPriority !== undefined && config.cpuPriority !== 'normal') parts.push(`priority ${config.cpuPriority}`);
  if (config.cpuLimit !== undefined && config.cpuLimit < 100) parts.push(`at most ${config.cpuLimit}% of a core each`);
  return parts.map((p) => `, ${p}`).join('');
}

/**
 * The engines' temperature sensors and the --max-temp limit. No sensor: a warn (the limit
 * cannot be used here), a fail when --max-temp is set (mine would refuse to start).
 */
export async function probeTemperature(list: Checklist, config: MineConfig, sources?: ThermalSources): Promise<void> {
  const label = 'temperature';
  const kinds = config.engines;
  if (kinds.length === 0) {
    list.ok(label, 'no engine hashes here (--engines none)');
    return;
  }
  const sensors = new ThermalSensors(kinds, sources);
  const readings = await sensors.read();
  const limit =
    config.maxTemp === undefined
      ? 'no --max-temp limit'
      : `--max-temp pauses hashing above ${formatCelsius(config.maxTemp)} and resumes below ${formatCelsius(config.resumeTemp ?? config.maxTemp - 5)}`;
  if (readings.length === 0) {
    const detail = `no sensor for the ${kinds.join(' and ')} engine (looked for ${sensors.describeSearch()})`;
    if (config.maxTemp !== undefined) list.fail(label, `${detail}: --max-temp cannot work here`);
    else list.warn(label, `${detail}; --max-temp cannot be used on this machine`);
    return;
  }
  const shown = readings.map((r) => `${r.sensor} ${formatCelsius(r.celsius)}`).join(', ');
  const hot = config.maxTemp !== undefined && readings.some((r) => r.celsius > config.maxTemp!);
  (hot ? list.warn : list.ok).call(list, label, `${shown}; ${limit}${hot ? ' (above it now: mining would start paused)' : ''}`);
}

/** --pid-file: free, stale (replaced at start), or naming a running miner (mine would refuse). */
export async function probePidFile(list: Checklist, config: MineConfig): Promise<void> {
  const label = 'pid file';
  if (config.pidFile === undefined) {
    list.ok(label, 'none (no --pid-file)');
    return;
  }
  try {
    const found = await readPidFile(config.pidFile);
    if (found.state === 'running') list.fail(label, `${config.pidFile} names a running solominer (pid ${found.pid}); solominer stop --pid-file ${config.pidFile} stops it`);
    else if (found.state === 'absent') list.ok(label, `${config.pidFile} is free`);
    else list.ok(label, `${config.pidFile} is left from an earlier run (no running miner): mine replaces it`);
  } catch (err) {
    list.fail(label, `${errorText(err)} (--pid-file)`);
  }
}

/** GPU adapters through WebGPU. A fail only when gpu is in --engines (or --gpu-adapter names none). */
export async function probeGpuAdapters(list: Checklist, config: MineConfig): Promise<void> {
  const label = 'gpu';
  const wanted = config.engines.includes('gpu');
  const problem = (detail: string) => (wanted ? list.fail(label, detail) : list.warn(label, detail));
  try {
    const { gpuAdapters } = await import('../engines/gpu-engine.js');
    const adapters = await withTimeout(gpuAdapters(), 20_000, 'listing GPU adapters');
    if (adapters.length === 0) {
      problem('no adapter (on a machine without a GPU, provision software Vulkan: scripts/provision-vulkan.sh)');
      return;
    }
    const names = adapters.map((a) => `${a.index}: ${a.name}${a.fallback ? ' (software)' : ''}`).join('; ');
    const choice = config.gpuAdapter === undefined ? undefined : String(config.gpuAdapter);
    if (choice !== undefined) {
      const hit = /^\d+$/.test(choice)
        ? adapters[Number(choice)]
        : adapters.find((a) => [a.name, a.vendor, a.device, a.architecture].some((s) => s.toLowerCase().includes(choice.toLowerCase())));
      if (!hit) {
        problem(`--gpu-adapter ${JSON.stringify(choice)} matches no adapter; this machine has ${names}`);
        return;
      }
      list.ok(label, `${names} (--gpu-adapter picks ${hit.index})${wanted ? '' : ' (gpu is not in --engines)'}`);
      return;
    }
    list.ok(label, `${names}${wanted ? '' : ' (gpu is not in --engines)'}`);
  } catch (err) {
    problem(`no adapter (${errorText(err).replace(/^(engine|gpu): /, '')})`);
  }
}

/** Known answers on every usable CPU back end (and on the GPU engine when it is in --engines). */
export async function probeKnownAnswers(list: Checklist, config: MineConfig, openGpu: () => Promise<Engine>): Promise<void> {
  if (config.engines.includes('cpu')) {
    let backends: ReturnType<typeof cpuBackends> = [];
    try {
      backends = cpuBackends().filter((b) => b.usable);
      if (backends.length === 0) list.fail('known answers cpu', 'no usable CPU back end');
    } catch (err) {
      list.fail('known answers cpu', errorText(err));
    }
    for (const b of backends) {
      const label = `known answers cpu/${b.name}`;
      let engine: CpuEngine | undefined;
      try {
        engine = new CpuEngine({ backend: b.name, threads: config.threads });
        const names = await checkKnownAnswers(engine);
        list.ok(label, `${names.join(', ')} found by ${b.description} x${config.threads}`);
      } catch (err) {
        list.fail(label, errorText(err));
      } finally {
        await engine?.close().catch(() => undefined);
      }
    }
  } else {
    list.skip('known answers cpu', 'cpu is not in --engines');
  }
  if (config.engines.includes('gpu')) {
    let engine: Engine | undefined;
    try {
      engine = await openGpu();
      const names = await checkKnownAnswers(engine);
      list.ok(`known answers gpu/${engine.backend}`, `${names.join(', ')}`);
    } catch (err) {
      list.fail('known answers gpu', errorText(err));
    } finally {
      await engine?.close().catch(() => undefined);
    }
  }
}

export function probeAddress(list: Checklist, config: MineConfig, missing: boolean): PayoutScript | undefined {
  const label = 'payout address';
  if (missing) {
    list.fail(label, 'not set (--address, SOLOMINER_ADDRESS or address in the config file)');
    return undefined;
  }
  if (config.address === undefined && payoutAddressOptional(config)) {
    list.ok(label, `none: a pool for the miners only (--engines none), so every Stratum login must be a ${config.network} payout address, <address>[.<worker>], which its blocks pay`);
    return undefined;
  }
  try {
    const address = payoutAddressOf(config);
    const payout = addressToScript(address, config.network);
    list.ok(label, `${address} (${payout.type}) is a valid ${config.network} address`);
    return payout;
  } catch (err) {
    if (err instanceof BitcoinError) {
      list.fail(label, `${err.what} (--address)`);
      return undefined;
    }
    throw err;
  }
}

/** Creates the report folder if needed and writes, syncs and removes a file in it. */
export async function probeReportDir(list: Checklist, config: MineConfig): Promise<boolean> {
  const label = 'report directory';
  const probe = join(config.reportDir, `.solominer-probe-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await mkdir(config.reportDir, { recursive: true });
    await writeFile(probe, 'probe\n', { flush: true });
    await rm(probe, { force: true });
    list.ok(label, `${config.reportDir} is writable`);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? errorText(err);
    list.fail(label, `cannot write ${config.reportDir} (${code}) (--report-dir)`);
    return false;
  }
}

function inside(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

/** Opens the found-blocks journal (creating it if need be), which proves it can be written and synced. */
export async function probeJournal(list: Checklist, config: MineConfig, reportDirOk: boolean): Promise<boolean> {
  const label = 'journal';
  if (!reportDirOk && inside(config.reportDir, config.journal)) {
    list.skip(label, `${config.journal} is inside the report directory, which cannot be written`);
    return false;
  }
  try {
    const journal = await FoundBlockJournal.open(config.journal, { warn: () => undefined });
    await journal.close();
    list.ok(label, `${config.journal} can be appended to and synced`);
    return true;
  } catch (err) {
    const detail = err instanceof JournalError ? err.message.replace(/^journal: /, '') : errorText(err);
    list.fail(label, `${detail} (--journal)`);
    return false;
  }
}

/** Whether the metrics endpoint could listen where it is told to. */
export async function probeMetricsPort(list: Checklist, config: MineConfig): Promise<void> {
  if (config.metricsPort === undefined) {
    list.ok('metrics port', 'no endpoint (no --metrics-port)');
    return;
  }
  await probePort(list, 'metrics port', config.metricsHost, config.metricsPort, '--metrics-port/--metrics-host');
}

/** Whether `host:port` can be listened on: ok with what it is, or fail with why not. */
async function probePort(list: Checklist, label: string, host: string, wanted: number, flags: string, what = ''): Promise<boolean> {
  const where = `${host}:${wanted}`;
  const server = createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port: wanted, host, exclusive: true }, () => resolve());
    });
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : wanted;
    list.ok(label, `${wanted === 0 ? `${host}: a free port can be had (${port} now)` : `${where} is free`}${what}`);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'EADDRINUSE'
        ? 'is in use by another program (another miner?)'
        : code === 'EADDRNOTAVAIL'
          ? 'cannot be listened on: the address is not one of this machine'
          : code === 'EACCES'
            ? 'needs privileges to listen on'
            : `cannot be listened on (${code ?? errorText(err)})`;
    list.fail(label, `${where} ${why} (${flags})`);
    return false;
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/**
 * The Stratum pool's ports, and for Stratum V2 what a miner needs: host, port, the authority
 * public key and the stratum2+tcp:// URL. The authority key is made now if this is the first
 * time (the same key `mine` then serves); its secret is never shown.
 */
export async function probeStratum(list: Checklist, config: MineConfig): Promise<void> {
  if (config.stratumPort !== undefined) await probePort(list, 'stratum v1', config.stratumHost, config.stratumPort, '--stratum-port/--stratum-host', `: miners use stratum+tcp://${config.stratumHost}:${config.stratumPort}`);
  if (config.sv2Port === undefined) return;
  const label = 'stratum v2';
  let authorityKey: string;
  let created: boolean;
  try {
    const authority = await loadOrCreateAuthority(authorityKeyPath(config));
    authorityKey = encodeAuthorityKey(schnorr.getPublicKey(authority.secret));
    created = authority.created;
  } catch (err) {
    if (err instanceof AuthorityKeyError) {
      list.fail(label, `--sv2-port: ${err.message}`);
      return;
    }
    throw err;
  }
  const url = sv2Url(config.sv2Host, config.sv2Port, authorityKey);
  const made = created ? ` (generated now and kept in ${authorityKeyPath(config)})` : '';
  await probePort(list, label, config.sv2Host, config.sv2Port, '--sv2-port/--sv2-host', `: miners use host ${config.sv2Host}, port ${config.sv2Port}, authority key ${authorityKey}${made}, or ${url}`);
}

// ---------------------------------------------------------------------------------------------
// The node

export interface NodeContact {
  readonly chainInfo: ChainInfo;
  readonly version: string;
  readonly connections: number;
  /** Round trip of the first answered getblockchaininfo. */
  readonly rpcMs: number;
}

/** Reaches the node (for at most `timeoutMs`) and says who it is. */
export async function probeNode(list: Checklist, config: MineConfig, rpc: RpcClient, timeoutMs: number): Promise<NodeContact | undefined> {
  const label = 'node';
  try {
    const began = performance.now();
    const chainInfo = await waitForNode(rpc, timeoutMs);
    const rpcMs = performance.now() - began;
    const info = await rpc.call<{ subversion: string; version: number; protocolversion: number; connections: number }>('getnetworkinfo');
    list.ok(label, `${info.subversion} (version ${info.version}) at ${rpc.url}`);
    return { chainInfo, version: info.subversion, connections: info.connections, rpcMs };
  } catch (err) {
    if (err instanceof NodeAuthError) {
      const who = /\(([^)]*)\)$/.exec(err.message)?.[1];
      list.fail(label, `${rpc.url} refused the RPC credentials${who ? ` (${who})` : ''} (check --rpc-user/--rpc-password or --rpc-cookie)`);
    } else if (err instanceof NodeConnectTimeoutError) {
      list.fail(label, `${errorText(err).replace(/ \(--connect-timeout\)$/, '')} (check --rpc-url and that the node runs)`);
    } else {
      list.fail(label, errorText(err));
    }
    return undefined;
  }
}

export function probeChain(list: Checklist, config: MineConfig, chainInfo: ChainInfo): boolean {
  const label = 'chain';
  const nodeNetwork = networkOfChain(chainInfo.chain);
  if (nodeNetwork !== config.network) {
    list.fail(
      label,
      `the node is on chain "${chainInfo.chain}"${nodeNetwork ? ` (${nodeNetwork})` : ''}, but the miner is set to ${config.network} (--network)`,
    );
    return false;
  }
  list.ok(label, `${chainInfo.chain}, height ${chainInfo.blocks}, tip ${chainInfo.bestblockhash}`);
  return true;
}

/** Sync state and peers. Bitcoin Core refuses work on mainnet in IBD or without peers; test chains do not care. */
export function probeSync(list: Checklist, config: MineConfig, contact: NodeContact): void {
  const { chainInfo } = contact;
  const progress = `${(chainInfo.verificationprogress * 100).toFixed(2)}% verified, ${chainInfo.blocks} of ${chainInfo.headers} headers`;
  if (chainInfo.initialblockdownload && config.network === 'regtest') {
    // A fresh regtest chain counts as "in IBD" until a block is mined: no matter there.
    list.ok('sync', `height ${chainInfo.blocks} (in initial block download until a block is mined, which regtest does not mind)`);
  } else if (chainInfo.initialblockdownload) {
    const detail = `in initial block download (${progress})`;
    if (config.network === 'main') list.fail('sync', `${detail}; mine once it has synced`);
    else list.warn('sync', `${detail}; blocks mined now may be stale`);
  } else if (chainInfo.headers > chainInfo.blocks) {
    list.warn('sync', `catching up (${progress})`);
  } else {
    list.ok('sync', `synced (${progress})`);
  }
  const peers = contact.connections;
  if (peers > 0) list.ok('peers', `${peers} connection${peers === 1 ? '' : 's'}`);
  else if (config.network === 'main') list.fail('peers', 'none: a block mined now could not reach the network; check the node\'s connectivity');
  else if (config.network === 'regtest') list.ok('peers', 'none (not needed on regtest)');
  else list.warn('peers', `none: a ${config.network} block mined now would reach nobody`);
}

interface ZmqNotification {
  readonly type: string;
  readonly address: string;
}

/**
 * The ZMQ notifications the node publishes. With --zmq: a fail unless it publishes hashblock
 * there. Without: a warn (longpoll works, but reacts more slowly to a new block).
 */
export async function probeZmq(list: Checklist, config: MineConfig, rpc: RpcClient): Promise<boolean> {
  const label = 'zmq';
  let published: ZmqNotification[];
  try {
    published = await rpc.call<ZmqNotification[]>('getzmqnotifications');
  } catch (err) {
    const detail = err instanceof RpcError && err.code === -32601 ? 'the node has no ZMQ support (getzmqnotifications is unknown to it)' : errorText(err);
    if (config.zmq !== undefined) list.fail(label, `${detail} (--zmq)`);
    else list.warn(label, `${detail}; the miner uses longpoll`);
    return false;
  }
  const offered = published.map((n) => `${n.type.replace(/^pub/, '')} at ${n.address}`).join(', ');
  if (config.zmq === undefined) {
    const hashblock = published.find((n) => n.type === 'pubhashblock');
    list.warn(
      label,
      hashblock
        ? `not used (no --zmq); the node publishes ${offered}: --zmq ${hashblock.address.replace(/^tcp:\/\/(0\.0\.0\.0|\*)/, 'tcp://127.0.0.1')} switches work faster than longpoll`
        : `not used (no --zmq), and the node publishes ${offered || 'nothing'}; the miner uses longpoll`,
    );
    return false;
  }
  try {
    await checkZmq(rpc, config.zmq);
    list.ok(label, `the node publishes ${offered}; hashblock reaches ${config.zmq}`);
    return true;
  } catch (err) {
    if (err instanceof NodeStateError) list.fail(label, `${errorText(err).replace(/^zmq: /, '')} (--zmq)`);
    else list.fail(label, errorText(err));
    return false;
  }
}

/** getblocktemplate names a signet's challenge; the public signet's needs its key's signature. */
export const PUBLIC_SIGNET_CHALLENGE =
  '512103ad5e0edad18cb1f0fc0d28a3d4f1f3e445640337489abb10404f2d1e086be430210359ef5021964fe22d6f8e05b2463c9540ce96883fe3b278760f048f5189f2e6c452ae';

export function signetRules(config: MineConfig): string[] {
  return NETWORK_INFO[config.network].signet ? ['segwit', 'signet'] : ['segwit'];
}

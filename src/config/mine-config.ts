/**
 * Configuration of `solominer mine`: one table of fields, each with its command-line flag, its
 * environment variable, its config-file key and a zod schema, and the schema of the complete,
 * resolved configuration (`MineConfig`).
 *
 * Spellings (one per source, no aliases):
 *
 * | source               | spelling                                   | example                  |
 * |----------------------|--------------------------------------------|--------------------------|
 * | command line         | `--` + kebab-case                          | `--rpc-url`              |
 * | environment          | `SOLOMINER_` + flag upper-cased, `-` → `_` | `SOLOMINER_RPC_URL`      |
 * | config file (JSON)   | camelCase, exactly the `MineConfig` names  | `"rpcUrl"`               |
 *
 * Flags override environment variables, which override the config file (`--config <file>`,
 * else `SOLOMINER_CONFIG`, else `./config.json`, which may be absent). Only the winning value
 * of a field is validated, so a flag can rescue a bad variable. An empty environment variable
 * counts as unset. In the file, `null` counts as unset, an unknown key is an error (a typo
 * such as "rpc_url" would otherwise be silently ignored), values have their JSON types
 * (`"threads": 4`, `"smokeTest": true`, `"engines": ["cpu", "gpu"]` or `"cpu,gpu"`), and
 * relative paths are taken relative to the file's own folder (relative paths on the command
 * line and in the environment: relative to the working directory). A leading `~/` in a path
 * means the home directory wherever it comes from.
 *
 * Values from text (flags, environment): numbers in decimal; booleans as a bare flag, or in the
 * environment as 1/0, true/false, yes/no, on/off; lists comma-separated.
 *
 * Secrets: the RPC password and the status token are never echoed in an error message nor in `describeConfig`; a
 * malformed `--rpc-url` is shown with anything before an `@` replaced by `***`; credentials
 * inside `rpcUrl` are refused, so they cannot leak through it. The cookie file is not read
 * here (the node rewrites it at every restart; the RPC client reads it at connect time).
 * @module
 */
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';

import { z } from 'zod';

import { defaultThreads as cpuDefaultThreads } from '../engines/cpu-engine.js';
import { parseTuningLabel } from '../engines/gpu/tuning.js';
import { NETWORKS, defaultCookiePath, defaultRpcUrl } from '../node/networks.js';
import { isNotifyUrl, redactNotifyUrl } from '../telemetry/notify/targets.js';


// ---------------------------------------------------------------------------------------------
// Field schemas (JSON-typed values: what a config file holds, and what text becomes)

export const ENGINES = ['cpu', 'gpu'] as const;
export type EngineKind = (typeof ENGINES)[number];
export const LOG_FORMATS = ['text', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];
export const LOG_LEVELS = ['info', 'debug'] as const;
export type LogLevelSetting = (typeof LOG_LEVELS)[number];

/**
 * The tag is pushed into the coinbase scriptSig after the BIP34 height push and before the
 * extranonce; consensus allows a scriptSig of at most 100 bytes in all (`bad-cb-length`).
 * 60 bytes of tag (61 with its push opcode, a single direct push since 60 ≤ 75) leave room for
 * the height push (≤ 6 bytes) and a 1 + 8..32-byte extranonce push, whatever the extranonce size.
 */
export const COINBASE_TAG_MAX_BYTES = 60;
export const THREADS_MAX = 1024;
export const REFRESH_MIN_SECONDS = 0.1;
export const REFRESH_MAX_SECONDS = 3600;
export const CONNECT_TIMEOUT_MAX_SECONDS = 86_400;

const nonEmpty = z.string().min(1);
const path = z.string().min(1).refine((s) => !s.includes('\0'), { message: 'expected a file path without NUL characters' });

const rpcUrl = z
  .url({ protocol: /^https?$/ })
  .refine((s) => {
    // zod runs refinements after a failed format check too: only judge what parses.
    if (!URL.canParse(s)) return true;
    const u = new URL(s);
    return u.username === '' && u.password === '';
  }, { message: 'expected no user:password@ in the URL (give the RPC user and password separately, or a cookie file)' });

// tcp://host:port (IPv4, name or [IPv6]) or ipc://path, the transports bitcoind publishes on.
const zmq = z
  .string()
  .regex(/^(tcp:\/\/(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}|ipc:\/\/.+)$/)
  .refine((s) => !s.startsWith('tcp:') || inPortRange(Number(s.slice(s.lastIndexOf(':') + 1)), 1), {
    message: 'expected a port 1..65535 in the ZMQ endpoint',
  });

const coinbaseTag = z.string().refine((s) => Buffer.byteLength(s, 'utf8') <= COINBASE_TAG_MAX_BYTES);

// `none` (alone): no local engine — a Stratum pool only (--stratum-port).
const engines = z.preprocess(
  (v) => (typeof v === 'string' ? splitList(v) : v),
  z
    .array(z.enum([...ENGINES, 'none']))
    .min(1)
    .refine((list) => !list.includes('none') || list.length === 1)
    .transform((list) => [...new Set(list.filter((e): e is EngineKind => e !== 'none'))]),
);
const addressList = z.preprocess((v) => (typeof v === 'string' ? splitList(v) : v), z.array(z.string().regex(/^\S+$/)).min(1));

const NOTIFY_EXPECTED = 'an http:// or https:// URL (ntfy, a Discord webhook or any JSON webhook)';
// A list: repeated flags (each one URL), or a variable or file string of URLs separated by commas
// or spaces, or a JSON array in the file.
const notify = z.preprocess(
  (v) => (typeof v === 'string' ? v.split(/[\s,]+/).filter((x) => x !== '') : v),
  z
    .array(z.string().refine(isNotifyUrl, { message: `expected ${NOTIFY_EXPECTED}` }))
    .transform((list) => [...new Set(list)]),
);

const host = z.union([z.ipv4(), z.ipv6(), z.hostname()]);

// stratum+tcp://host:port (IPv4, name or [IPv6]), or stratum2+tcp://host:port/<authority key>
// (Stratum V2: the pool's base58check authority key, checked when the client starts); the pools
// to mine through, in fail-over order.
const POOL_URL = /^stratum\+tcp:\/\/(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;
const SV2_POOL_URL = /^stratum2\+tcp:\/\/(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})\/[1-9A-HJ-NP-Za-km-z]{40,60}$/;
const poolUrlPort = (u: string) => (POOL_URL.exec(u) ?? SV2_POOL_URL.exec(u))?.[2];
const poolUrls = z.preprocess(
  (v) => (typeof v === 'string' ? v.split(/[\s,]+/).filter((x) => x !== '') : v),
  z
    .array(z.string().refine((u) => poolUrlPort(u) !== undefined && inPortRange(Number(poolUrlPort(u)), 1)))
    .min(1)
    .transform((list) => [...new Set(list)]),
);

// Printable ASCII without spaces: it travels in an HTTP header and a form field unchanged.
const STATUS_TOKEN_MIN_LENGTH = 16;
const statusToken = z.string().min(STATUS_TOKEN_MIN_LENGTH).regex(/^[\x21-\x7e]+$/);
const seconds = (min: number, max: number) => z.number().min(min).max(max);

// --- Governance: how the hashing threads share the machine, and the temperature limit ---------
export const CPU_PRIORITIES = ['idle', 'low', 'normal'] as const;
/** CPU indices the kernel's affinity masks take (CPU_SETSIZE). */
export const CPU_INDEX_MAX = 1023;
/** A limit below a room's temperature would never let hashing run; resume may be anything below the limit. */
export const TEMPERATURE_MIN_CELSIUS = 20;
export const RESUME_MIN_CELSIUS = 1;
export const TEMPERATURE_MAX_CELSIUS = 150;

/**
 * "0,2-3" → [0, 2, 3] (the kernel's cpulist format, as in Cpus_allowed_list), in the order
 * given, each CPU once; undefined when it is not such a list.
 */
export function parseCpuList(text: string): number[] | undefined {
  const out: number[] = [];
  const parts = text.split(',').map((p) => p.trim());
  for (const part of parts) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) return undefined;
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (to < from || to > CPU_INDEX_MAX) return undefined;
    for (let cpu = from; cpu <= to; cpu++) if (!out.includes(cpu)) out.push(cpu);
  }
  return out;
}

const cpuAffinity = z.preprocess(
  (v) => (typeof v === 'string' ? (parseCpuList(v) ?? v) : v),
  z.array(z.int().min(0).max(CPU_INDEX_MAX)).min(1).transform((list) => [...new Set(list)]),
);
const celsius = (min: number) => z.number().min(min).max(TEMPERATURE_MAX_CELSIUS);
// Each axis within what GpuEngine.create accepts, so a bad value is refused at start-up in one line.
const gpuTuning = z.string().refine((s) => {
  const t = parseTuningLabel(s);
  return t !== undefined && t.workgroupSize <= 1024 && t.noncesPerInvocation <= 4096 && t.dispatchMs <= 10_000 && t.inFlight <= 8 && t.versions <= 16;
});

export const fieldSchemas = {
  // `mainnet` is what people call it; Bitcoin Core calls it `main`.
  network: z.preprocess((v) => (v === 'mainnet' ? 'main' : v), z.enum(NETWORKS)),
  rpcUrl,
  rpcUser: nonEmpty.refine((s) => !s.includes(':')),
  rpcPassword: nonEmpty,
  rpcCookie: path,
  rpcCa: path,
  zmq,
  address: z.string().regex(/^\S+$/),
  coinbaseTag,
  engines,
  threads: z.int().min(1).max(THREADS_MAX),
  gpuAdapter: z.union([z.int().min(0), nonEmpty]),
  reportDir: path,
  metricsPort: z.int().min(0).max(65535),
  metricsHost: host,
  statusToken,
  journal: path,
  connectTimeout: seconds(0, CONNECT_TIMEOUT_MAX_SECONDS),
  maxBlocks: z.int().min(1),
  duration: z.number().positive(),
  smokeTest: z.boolean(),
  smokeNetwork: z.boolean(),
  noVersionRolling: z.boolean(),
  logFormat: z.enum(LOG_FORMATS),
  logLevel: z.enum(LOG_LEVELS),
  stratumPort: z.int().min(0).max(65535),
  stratumHost: host,
  stratumAddresses: addressList,
  stratumPassword: nonEmpty,
  stratumDifficulty: z.number().positive().max(1e15),
  stratumShareSeconds: seconds(1, 600),
  stratumMaxConnections: z.int().min(1).max(1_000_000),
  stratumMaxPerAddress: z.int().min(1).max(1_000_000),
  sv2Port: z.int().min(0).max(65535),
  sv2Host: host,
  pool: poolUrls,
  user: z.string().regex(/^[^\s"\\]{1,128}$/),
  pass: z.string().max(256),
  suggestDifficulty: z.number().positive().max(1e15),
  refreshInterval: seconds(REFRESH_MIN_SECONDS, REFRESH_MAX_SECONDS),
  propagationAlarm: seconds(0, CONNECT_TIMEOUT_MAX_SECONDS),
  notify,
  onBlock: nonEmpty,
  // Governance (issue 14)
  cpuBackend: z.string().regex(/^[a-z0-9_]+$/),
  reserveCores: z.int().min(0).max(THREADS_MAX),
  cpuAffinity,
  cpuPriority: z.enum(CPU_PRIORITIES),
  cpuLimit: z.int().min(1).max(100),
  gpuTuning,
  maxTemp: celsius(TEMPERATURE_MIN_CELSIUS),
  resumeTemp: celsius(RESUME_MIN_CELSIUS),
  pidFile: path,
  // Node entries are checked by config/node-entries.ts (its messages name the entry and its item);
  // the file schema only needs to know the key.
  nodes: z.unknown(),
} as const;

export type FieldKey = keyof typeof fieldSchemas;

// ---------------------------------------------------------------------------------------------
// The field table: spellings, how text becomes a value, what an error says

export type TextKind = 'string' | 'number' | 'boolean' | 'adapter';

export interface FieldSpec {
  readonly key: FieldKey;
  /** Flag name without the leading dashes. */
  readonly flag: string;
  readonly env: string;
  /** A bare flag (`--smoke-test`) or one taking a value. */
  readonly flagType: 'string' | 'boolean';
  /** How a flag's or variable's text is turned into a JSON-typed value before validation. */
  readonly text: TextKind;
  /** What a valid value is, for "expected ..." in error messages. */
  readonly expected: string;
  /** Resolved to an absolute path. */
  readonly isPath?: boolean;
  /** Never echoed. */
  readonly secret?: boolean;
  /** May be given more than once (each flag adds a value; a variable or file holds a list). */
  readonly repeatable?: boolean;
  /** The value's placeholder in --help (`--threads <n>`); none for a switch. */
  readonly arg?: string;
  /** One line for --help: what the field does. */
  readonly help: string;
  /** The default in words, for --help (absent: no default, the field is unset). */
  readonly defaultText?: string;
}

function spec(key: FieldKey, flag: string, s: Omit<FieldSpec, 'key' | 'flag' | 'env' | 'flagType'> & { flagType?: 'string' | 'boolean' }): FieldSpec {
  return { key, flag, env: envName(flag), flagType: s.flagType ?? 'string', ...s };
}

/** SOLOMINER_ + the flag upper-cased, dashes → underscores. */
export function envName(flag: string): string {
  return `SOLOMINER_${flag.toUpperCase().replaceAll('-', '_')}`;
}

export const MINE_FIELDS: readonly FieldSpec[] = [
  spec('network', 'network', { arg: 'name', text: 'string', expected: `${NETWORKS.join(', ').replace(/, (\w+)$/, ' or $1')} (mainnet is main)`, help: 'chain to mine on', defaultText: 'main' }),
  spec('rpcUrl', 'rpc-url', { arg: 'url', text: 'string', expected: 'an http:// or https:// URL such as http://127.0.0.1:8332', help: "node's RPC URL; https:// for a node behind a TLS proxy", defaultText: "http://127.0.0.1 on the network's port" }),
  spec('rpcUser', 'rpc-user', { arg: 'user', text: 'string', expected: "a non-empty user name without ':'", help: 'RPC user, with --rpc-password (instead of the cookie)' }),
  spec('rpcPassword', 'rpc-password', { arg: 'password', text: 'string', expected: 'a non-empty password', secret: true, help: 'RPC password; prefer the variable, flags are visible to other users' }),
  spec('rpcCookie', 'rpc-cookie', { arg: 'file', text: 'string', expected: 'a file path', isPath: true, help: "node's RPC cookie file", defaultText: "Bitcoin Core's, per network" }),
  spec('rpcCa', 'rpc-ca', { arg: 'file', text: 'string', expected: 'a PEM file path', isPath: true, help: 'certificate authority (PEM) trusted for an https:// --rpc-url', defaultText: "the system's" }),
  spec('zmq', 'zmq', { arg: 'endpoint', text: 'string', expected: 'a ZMQ endpoint such as tcp://127.0.0.1:28332', help: "node's zmqpubhashblock endpoint; without it, longpoll" }),
  spec('nodes', 'node', {
    arg: 'url[,zmq=…][,cookie=…]',
    text: 'string',
    repeatable: true,
    expected: 'a node: its RPC URL, then comma-separated zmq=<endpoint>, cookie=<file>, user=<user>, password=<password>, ca=<file> (docs/cli.md, "Several nodes")',
    help: 'another node: its RPC URL,zmq=…,cookie=… (or user=…,password=…,ca=…); repeatable; work from the first usable, blocks to all',
    defaultText: 'the --rpc-* node alone',
  }),
  spec('address', 'address', { arg: 'address', text: 'string', expected: 'a payout address without spaces', help: 'payout address (required, except with --engines none and a Stratum port: then every login must be an address)' }),
  spec('coinbaseTag', 'coinbase-tag', { arg: 'text', text: 'string', expected: `text of at most ${COINBASE_TAG_MAX_BYTES} bytes in UTF-8 (the coinbase scriptSig holds 100 bytes in all)`, help: 'text in the coinbase; "" for none', defaultText: '/solominer/' }),
  spec('engines', 'engines', { arg: 'list', text: 'string', expected: 'cpu, gpu or cpu,gpu (a comma-separated list), or none (a Stratum pool only)', help: 'hashing engines; none with --stratum-port serves only the pool', defaultText: 'cpu' }),
  spec('threads', 'threads', { arg: 'n', text: 'number', expected: `an integer 1..${THREADS_MAX}`, help: 'CPU engine threads', defaultText: 'the CPUs this process may use (affinity mask, cgroup CPU quota) less --reserve-cores, at most one per --cpu-affinity CPU' }),
  spec('gpuAdapter', 'gpu-adapter', { arg: 'index|name', text: 'adapter', expected: 'an adapter index (0, 1, ...) or a non-empty name', help: 'GPU adapter by index or part of its name', defaultText: 'the first' }),
  spec('reportDir', 'report-dir', { arg: 'dir', text: 'string', expected: 'a folder path', isPath: true, help: 'folder of the hourly reports', defaultText: './reports' }),
  spec('metricsPort', 'metrics-port', { arg: 'port', text: 'number', expected: 'a port 0..65535', help: 'serve Prometheus /metrics and /status on this port (0 picks a free one)', defaultText: 'none' }),
  spec('metricsHost', 'metrics-host', { arg: 'addr', text: 'string', expected: 'a host name or IP address such as 127.0.0.1', help: 'address the metrics endpoint listens on', defaultText: '127.0.0.1' }),
  spec('statusToken', 'status-token', { arg: 'token', text: 'string', expected: `a token of at least ${STATUS_TOKEN_MIN_LENGTH} printable characters without spaces (e.g. from openssl rand -hex 16)`, secret: true, help: 'required to serve the status port beyond loopback: every request must carry it (Authorization: Bearer, or the dashboard\'s sign-in)' }),
  spec('journal', 'journal', { arg: 'file', text: 'string', expected: 'a file path', isPath: true, help: 'found-blocks journal', defaultText: '<report-dir>/found-blocks.jsonl' }),
  spec('connectTimeout', 'connect-timeout', { arg: 'seconds', text: 'number', expected: `seconds, a number 0..${CONNECT_TIMEOUT_MAX_SECONDS}`, help: 'how long start-up waits for the node', defaultText: '30' }),
  spec('maxBlocks', 'max-blocks', { arg: 'n', text: 'number', expected: 'a positive integer', help: 'exit 0 once this many blocks are accepted', defaultText: 'no limit' }),
  spec('duration', 'duration', { arg: 'seconds', text: 'number', expected: 'seconds, a number greater than 0', help: 'stop after this many seconds', defaultText: 'no limit' }),
  spec('smokeTest', 'smoke-test', { flagType: 'boolean', text: 'boolean', expected: 'true or false (or 1/0, yes/no, on/off)', help: "prove the deployment (known answers, a block proposal checked by the node), don't mine" }),
  spec('smokeNetwork', 'smoke-network', { flagType: 'boolean', text: 'boolean', expected: 'true or false (or 1/0, yes/no, on/off)', help: 'prove the node side (RPC, chain, ZMQ; one block on test chains), then exit' }),
  spec('noVersionRolling', 'no-version-rolling', { flagType: 'boolean', text: 'boolean', expected: 'true or false (or 1/0, yes/no, on/off)', help: "hash every header with the template's (or pool job's) own version: no BIP320 version rolling in the engines", defaultText: 'false: the engines roll BIP320 bits where the template or the pool allows' }),
  spec('logFormat', 'log-format', { arg: 'text|json', text: 'string', expected: 'text or json', help: 'log line format', defaultText: 'text' }),
  spec('logLevel', 'log-level', { arg: 'info|debug', text: 'string', expected: 'info or debug', help: 'debug adds a line per Stratum connect, disconnect and rejected share', defaultText: 'info' }),
  spec('stratumPort', 'stratum-port', { arg: 'port', text: 'number', expected: 'a port 0..65535', help: 'serve Stratum V1 on this port: ASICs and rigs mine through this miner (0 picks a free one)', defaultText: 'none' }),
  spec('stratumHost', 'stratum-host', { arg: 'addr', text: 'string', expected: 'a host name or IP address such as 0.0.0.0', help: 'address the Stratum pool listens on; 0.0.0.0 serves the LAN', defaultText: '127.0.0.1' }),
  spec('stratumAddresses', 'stratum-addresses', { arg: 'list', text: 'string', expected: 'a comma-separated list of payout addresses', help: 'the only addresses a Stratum login may be paid to', defaultText: 'any address of the network' }),
  spec('stratumPassword', 'stratum-password', { arg: 'password', text: 'string', expected: 'a non-empty password', secret: true, help: 'password every Stratum login must give', defaultText: 'none' }),
  spec('stratumDifficulty', 'stratum-difficulty', { arg: 'n', text: 'number', expected: 'a number greater than 0 (fractions allowed)', help: "difficulty a Stratum connection starts at (a miner's mining.suggest_difficulty wins)", defaultText: '1' }),
  spec('stratumShareSeconds', 'stratum-share-seconds', { arg: 'seconds', text: 'number', expected: 'seconds, a number 1..600', help: 'seconds per share the per-connection vardiff aims at', defaultText: '10' }),
  spec('stratumMaxConnections', 'stratum-max-connections', { arg: 'n', text: 'number', expected: 'an integer 1..1000000', help: 'Stratum connections in all', defaultText: '10000' }),
  spec('stratumMaxPerAddress', 'stratum-max-per-address', { arg: 'n', text: 'number', expected: 'an integer 1..1000000', help: 'Stratum connections from one IP address', defaultText: '1000' }),
  spec('sv2Port', 'sv2-port', { arg: 'port', text: 'number', expected: 'a port 0..65535', help: 'serve Stratum V2 (encrypted, binary) on this port, beside or without --stratum-port (0 picks a free one)', defaultText: 'none' }),
  spec('sv2Host', 'sv2-host', { arg: 'addr', text: 'string', expected: 'a host name or IP address such as 0.0.0.0', help: 'address the Stratum V2 pool listens on; 0.0.0.0 serves the LAN', defaultText: '127.0.0.1' }),
  spec('pool', 'pool', { arg: 'url', text: 'string', repeatable: true, expected: 'a stratum+tcp://host:port or stratum2+tcp://host:port/<authority key> URL', help: 'mine through this Stratum pool instead of a node; repeat for fail-over, tried in order (the variable takes a comma-separated list)', defaultText: 'none: mine from the node' }),
  spec('user', 'user', { arg: '<address>[.<worker>]', text: 'string', expected: 'a pool user name without spaces or quotes, at most 128 characters', help: 'pool user name (with --pool): solo pools pay the address before the first dot' }),
  spec('pass', 'pass', { arg: 'password', text: 'string', expected: 'a password of at most 256 characters', secret: true, help: 'pool password (with --pool)', defaultText: 'x' }),
  spec('suggestDifficulty', 'suggest-difficulty', { arg: 'n', text: 'number', expected: 'a number greater than 0 (fractions allowed)', help: 'ask the pool for this share difficulty (mining.suggest_difficulty; with --pool)', defaultText: "the pool's" }),
  spec('refreshInterval', 'refresh-interval', { arg: 'seconds', text: 'number', expected: `seconds, a number ${REFRESH_MIN_SECONDS}..${REFRESH_MAX_SECONDS}`, help: 'template refresh period, for new transactions', defaultText: '30' }),
  spec('propagationAlarm', 'propagation-alarm', {
    arg: 'seconds',
    text: 'number',
    expected: `seconds, a number 0..${CONNECT_TIMEOUT_MAX_SECONDS} (0: no alarm)`,
    help: 'alarm when a found block is still known to one node only, sent to no peer, after this long',
    defaultText: '120 on main, testnet, testnet4; 0 (off) on signet, regtest',
  }),
  spec('notify', 'notify', { arg: 'url', text: 'string', repeatable: true, expected: NOTIFY_EXPECTED, help: 'POST block and node events to this URL: ntfy, Discord webhook or JSON webhook (docs/notifications.md); repeatable; the variable takes a comma-separated list', defaultText: 'none' }),
  // Secret: a command line may carry a token (curl -H "Authorization: ...").
  spec('onBlock', 'on-block', { arg: 'command', text: 'string', expected: 'a shell command', secret: true, help: 'run this shell command at each block event, its fields in SOLOMINER_* variables (%s: the block hash); 30 s limit' }),
  // Governance: what the hashing may take of the machine (docs/deploy.md, "Governance").
  spec('cpuBackend', 'cpu-backend', { arg: 'name', text: 'string', expected: 'a CPU back end name such as avx2 (check and bench list them)', help: 'CPU back end to hash with (solominer tune picks one)', defaultText: 'the fastest this CPU runs' }),
  spec('reserveCores', 'reserve-cores', { arg: 'n', text: 'number', expected: `an integer 0..${THREADS_MAX}`, help: 'cores left to the rest of the system when --threads is not given', defaultText: '0' }),
  spec('cpuAffinity', 'cpu-affinity', { arg: 'list', text: 'string', expected: `CPU indices such as 0,2-3 (numbers and ranges 0..${CPU_INDEX_MAX}, comma-separated)`, help: 'pin hashing thread i to the i-th CPU of the list (Linux; the JavaScript thread keeps every CPU)', defaultText: 'not pinned' }),
  spec('cpuPriority', 'cpu-priority', { arg: 'idle|low|normal', text: 'string', expected: 'idle, low or normal', help: 'scheduling of the hashing threads only (Linux): idle runs only when nothing else wants the core (SCHED_IDLE), low is nice 19', defaultText: 'normal' }),
  spec('cpuLimit', 'cpu-limit', { arg: 'percent', text: 'number', expected: 'an integer percent 1..100', help: 'share of a core each hashing thread may use (a duty cycle in the native loop)', defaultText: '100' }),
  spec('gpuTuning', 'gpu-tuning', { arg: 'tuning', text: 'string', expected: 'a GPU tuning such as "wg64 n16 40ms q2 v8" (workgroup size, nonces per invocation, dispatch ms, dispatches queued, versions per nonce 1..16, and nosg for no subgroup shuffles; bench --sweep lists them)', help: 'GPU kernel shape, dispatch pacing and versions per nonce (solominer tune picks one)', defaultText: 'wg64 n16 40ms q2 v8' }),
  spec('maxTemp', 'max-temp', { arg: 'celsius', text: 'number', expected: `degrees Celsius, a number ${TEMPERATURE_MIN_CELSIUS}..${TEMPERATURE_MAX_CELSIUS}`, help: 'pause hashing while the hottest CPU/GPU sensor is above this; needs a sensor (check lists them)', defaultText: 'no limit' }),
  spec('resumeTemp', 'resume-temp', { arg: 'celsius', text: 'number', expected: `degrees Celsius, a number ${RESUME_MIN_CELSIUS}..${TEMPERATURE_MAX_CELSIUS} below --max-temp`, help: 'resume hashing once the hottest sensor is below this', defaultText: '--max-temp minus 5' }),
  spec('pidFile', 'pid-file', { arg: 'file', text: 'string', expected: 'a file path', isPath: true, help: 'write the process id here while running (solominer stop reads it)', defaultText: 'none' }),
];

export const FIELD_BY_KEY: Readonly<Record<FieldKey, FieldSpec>> = Object.fromEntries(MINE_FIELDS.map((f) => [f.key, f])) as Record<FieldKey, FieldSpec>;

// ---------------------------------------------------------------------------------------------
// Whole-config schemas

/** What a config file may hold: every field optional, `null` meaning unset, no other keys. */
export const mineConfigFileSchema = z.strictObject(
  Object.fromEntries(MINE_FIELDS.map((f) => [f.key, fieldSchemas[f.key].nullable().optional()])) as {
    [K in FieldKey]: z.ZodOptional<z.ZodNullable<(typeof fieldSchemas)[K]>>;
  },
);
export type MineConfigFile = z.input<typeof mineConfigFileSchema>;

/** One node as the resolved configuration holds it (the first one's fields are also top-level). */
const nodeEntrySchema = z.strictObject({
  rpcUrl: fieldSchemas.rpcUrl,
  rpcUser: fieldSchemas.rpcUser.optional(),
  rpcPassword: fieldSchemas.rpcPassword.optional(),
  rpcCookie: fieldSchemas.rpcCookie.optional(),
  rpcCa: fieldSchemas.rpcCa.optional(),
  zmq: fieldSchemas.zmq.optional(),
});

/**
 * The complete configuration after merging and defaults. Authentication invariant: either
 * `rpcUser` and `rpcPassword` are both set and `rpcCookie` is not, or `rpcCookie` is set and
 * neither of the others is.
 */
export const mineConfigSchema = z
  .strictObject({
    network: fieldSchemas.network,
    ...nodeEntrySchema.shape,
    // Required when mining from a node (the coinbase pays it), except for a pool whose logins
    // are all addresses (payoutAddressOptional); a pool mined through pays whom it pays.
    address: fieldSchemas.address.optional(),
    coinbaseTag: fieldSchemas.coinbaseTag,
    // The field's output (the list after `none` and duplicates are handled); [] with a pool only.
    engines: z.array(z.enum(ENGINES)),
    threads: fieldSchemas.threads,
    gpuAdapter: fieldSchemas.gpuAdapter.optional(),
    reportDir: fieldSchemas.reportDir,
    metricsPort: fieldSchemas.metricsPort.optional(),
    metricsHost: fieldSchemas.metricsHost,
    statusToken: fieldSchemas.statusToken.optional(),
    journal: fieldSchemas.journal,
    connectTimeout: fieldSchemas.connectTimeout,
    maxBlocks: fieldSchemas.maxBlocks.optional(),
    duration: fieldSchemas.duration.optional(),
    smokeTest: fieldSchemas.smokeTest,
    smokeNetwork: fieldSchemas.smokeNetwork,
    noVersionRolling: fieldSchemas.noVersionRolling,
    logFormat: fieldSchemas.logFormat,
    logLevel: fieldSchemas.logLevel,
    stratumPort: fieldSchemas.stratumPort.optional(),
    stratumHost: fieldSchemas.stratumHost,
    stratumAddresses: fieldSchemas.stratumAddresses.optional(),
    stratumPassword: fieldSchemas.stratumPassword.optional(),
    stratumDifficulty: fieldSchemas.stratumDifficulty,
    stratumShareSeconds: fieldSchemas.stratumShareSeconds,
    stratumMaxConnections: fieldSchemas.stratumMaxConnections,
    stratumMaxPerAddress: fieldSchemas.stratumMaxPerAddress,
    sv2Port: fieldSchemas.sv2Port.optional(),
    sv2Host: fieldSchemas.sv2Host,
    pool: fieldSchemas.pool.optional(),
    user: fieldSchemas.user.optional(),
    pass: fieldSchemas.pass,
    suggestDifficulty: fieldSchemas.suggestDifficulty.optional(),
    refreshInterval: fieldSchemas.refreshInterval,
    propagationAlarm: fieldSchemas.propagationAlarm,
    notify: z.array(z.string()),
    onBlock: fieldSchemas.onBlock.optional(),
    cpuBackend: fieldSchemas.cpuBackend.optional(),
    reserveCores: fieldSchemas.reserveCores.optional(),
    cpuAffinity: z.array(z.int().min(0).max(CPU_INDEX_MAX)).optional(),
    cpuPriority: fieldSchemas.cpuPriority.optional(),
    cpuLimit: fieldSchemas.cpuLimit.optional(),
    gpuTuning: fieldSchemas.gpuTuning.optional(),
    maxTemp: fieldSchemas.maxTemp.optional(),
    resumeTemp: fieldSchemas.resumeTemp.optional(),
    pidFile: fieldSchemas.pidFile.optional(),
    // Every node, resolved (load-config.ts): the --rpc-* node first when it is one of them; the
    // rpc* fields above are those of the first node.
    nodes: z.array(nodeEntrySchema).min(1),
  })
  .refine(
    (c) =>
      c.rpcUser !== undefined && c.rpcPassword !== undefined
        ? c.rpcCookie === undefined
        : c.rpcUser === undefined && c.rpcPassword === undefined && c.rpcCookie !== undefined,
    { message: 'expected either rpcUser and rpcPassword, or rpcCookie' },
  );

export type MineConfig = Readonly<z.output<typeof mineConfigSchema>>;

// ---------------------------------------------------------------------------------------------
// Defaults

/**
 * Defaults, and why:
 * - network `main`: what `bitcoind` and `bitcoin-cli` assume when no chain is named, so a solo
 *   miner pointing at their own node gets the chain they run. Nothing is at stake by default —
 *   mining spends no coins, the payout address must be given and is checked against the
 *   network (a test address on mainnet, or the reverse, is refused), and the RPC URL and
 *   cookie follow the network, so a wrong guess fails at start-up rather than mining in vain.
 * - rpcUrl / rpcCookie: Bitcoin Core's own per-network port on 127.0.0.1 and cookie file under
 *   its default data folder, so a local node works with no configuration and no secret.
 * - coinbaseTag `/solominer/`: the customary slash-delimited software tag; "" for none.
 * - engines [cpu], threads = every CPU this process may use (defaultThreads): the GPU engine
 *   needs an adapter, so it is opt-in; the governance fields (cpuPriority, cpuLimit, ...) are
 *   unset, which is the engines' own default (normal priority, no limit, not pinned).
 * - metricsHost 127.0.0.1: the endpoint is not exposed beyond the machine unless asked, and
 *   then only with a statusToken (load-config.ts refuses the port beyond loopback without one);
 *   metricsPort unset: no endpoint unless asked.
 * - reportDir ./reports (git-ignored), journal <reportDir>/found-blocks.jsonl.
 * - connectTimeout 30 s (long enough for a node restart), refreshInterval 30 s (a new-transactions refresh about as
 *   often as the node's own getblocktemplate caching makes worthwhile), logFormat text.
 */
export const DEFAULTS = {
  network: 'main',
  coinbaseTag: '/solominer/',
  engines: ['cpu'],
  metricsHost: '127.0.0.1',
  reportDir: 'reports',
  journalName: 'found-blocks.jsonl',
  connectTimeout: 30,
  refreshInterval: 30,
  /** On networks with peers; signet and regtest test nodes often have none (0: off). */
  propagationAlarm: 120,
  logFormat: 'text',
  logLevel: 'info',
  stratumHost: '127.0.0.1',
  stratumDifficulty: 1,
  stratumShareSeconds: 10,
  stratumMaxConnections: 10_000,
  stratumMaxPerAddress: 1000,
  sv2Host: '127.0.0.1',
  pass: 'x',
} as const;

/**
 * Threads when --threads is not given: the CPUs this process may use (its affinity mask, no
 * more than its cgroup CPU quota: cpu-engine.ts defaultThreads) less reserveCores, and no more
 * than the --cpu-affinity list holds (a second thread on a pinned CPU only contends); at least 1.
 * Resolved when the configuration is loaded, so the start-up line and `check` show the count.
 */
export function defaultThreads(governance: { readonly reserveCores?: number | undefined; readonly cpuAffinity?: readonly number[] | undefined } = {}): number {
  const cpus = cpuDefaultThreads({ reserveCores: governance.reserveCores ?? 0 });
  const pinned = governance.cpuAffinity?.length ?? Infinity;
  return Math.min(THREADS_MAX, Math.max(1, Math.min(cpus, pinned)));
}

export { defaultCookiePath, defaultRpcUrl };

// ---------------------------------------------------------------------------------------------
// Printing

/** A copy safe to log: the password replaced by "***". */
export function redactConfig(config: MineConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) {
    if (v === undefined) continue;
    // Notification URLs may hold a password or token: shown redacted (notify/targets.ts).
    if (k === 'nodes' && Array.isArray(v)) out[k] = (v as Array<Record<string, unknown>>).map((n) => (n.rpcPassword !== undefined ? { ...n, rpcPassword: '***' } : n));
    else out[k] = FIELD_BY_KEY[k as FieldKey]?.secret ? '***' : k === 'notify' && Array.isArray(v) ? (v as string[]).map((u) => redactNotifyUrl(u)) : v;
  }
  return out;
}

/**
 * One printable line for the start-up log: `key=value` for every set field in table order,
 * the password as `***`. Values with spaces, quotes or `=` are JSON-quoted.
 */
export function describeConfig(config: MineConfig): string {
  const safe = redactConfig(config);
  const parts: string[] = [];
  for (const f of MINE_FIELDS) {
    let v = safe[f.key];
    // One node is the rpc* fields already; several are listed by URL and ZMQ.
    if (f.key === 'nodes') v = Array.isArray(v) && v.length > 1 ? (v as Array<{ rpcUrl: string; zmq?: string }>).map((n) => (n.zmq !== undefined ? `${n.rpcUrl}+${n.zmq}` : n.rpcUrl)) : undefined;
    if (v === undefined || (Array.isArray(v) && v.length === 0)) continue;
    const text = Array.isArray(v) ? v.join(',') : String(v);
    parts.push(`${f.key}=${text === '' || /[\s"'=\\]/.test(text) || /[^\x20-\x7e]/.test(text) ? JSON.stringify(text) : text}`);
  }
  return parts.join(' ');
}

// ---------------------------------------------------------------------------------------------
// Helpers shared with load-config.ts


export function splitList(s: string): string[] {
  return s
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');
}

function inPortRange(n: number, min: number): boolean {
  return Number.isInteger(n) && n >= min && n <= 65535;
}

/** Flag or environment text → the JSON-typed value its schema checks (unchanged if it does not fit). */
export function valueFromText(kind: TextKind, text: string): unknown {
  switch (kind) {
    case 'string':
      return text;
    case 'number':
      return /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text) ? Number(text) : text;
    case 'adapter':
      return /^\d+$/.test(text) ? Number(text) : text;
    case 'boolean': {
      const t = text.trim().toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(t)) return true;
      if (['0', 'false', 'no', 'off'].includes(t)) return false;
      return text;
    }
  }
}

/** `~/x` → home/x; relative → against `base`. */
export function resolvePath(p: string, base: string): string {
  const expanded = p === '~' ? homedir() : p.startsWith('~/') ? join(homedir(), p.slice(2)) : p;
  return isAbsolute(expanded) ? expanded : resolve(base, expanded);
}

/** The payout address of a configuration that mines from a node (the loader requires it there). */
export function payoutAddressOf(config: MineConfig): string {
  if (config.address === undefined) throw new TypeError('payoutAddressOf: mining from a node needs an address (the loader requires one)');
  return config.address;
}

/**
 * A pool for other people's miners only: `--engines none`, a Stratum V1 and/or V2 port, no
 * `--pool`, no smoke test. Nothing there is paid to the operator (each login names its own
 * address), so the payout address is optional; without one, a login that is not an address of
 * the network is refused (stratum/authorize.ts). Takes the loader's values or a MineConfig.
 */
export function payoutAddressOptional(c: { readonly [K in 'engines' | 'stratumPort' | 'sv2Port' | 'pool' | 'smokeTest' | 'smokeNetwork']?: unknown }): boolean {
  return (
    Array.isArray(c.engines) && c.engines.length === 0 && (c.stratumPort !== undefined || c.sv2Port !== undefined) && c.pool === undefined && c.smokeTest !== true && c.smokeNetwork !== true
  );
}

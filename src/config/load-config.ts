/**
 * `loadMineConfig`: command-line flags over SOLOMINER_* environment variables over the config
 * file, validated field by field with the schemas of mine-config.ts. Every failure is a
 * ConfigError whose message is one line naming the field as the user spelled it
 * (`--threads`, `SOLOMINER_THREADS`, `config.json threads`) and what is expected, and never
 * holds the RPC password. Mapping it to exit code 2 is the CLI's business.
 * @module
 */
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';

import {
  DEFAULTS,
  FIELD_BY_KEY,
  MINE_FIELDS,
  defaultCookiePath,
  defaultRpcUrl,
  defaultThreads,
  fieldSchemas,
  mineConfigFileSchema,
  mineConfigSchema,
  payoutAddressOptional,
  resolvePath,
  valueFromText,
  type FieldKey,
  type FieldSpec,
  type MineConfig,
} from './mine-config.js';
import { parseJsonText } from './json-syntax.js';
import { decodeAuthorityKey } from '../stratum/v2/certificate.js';
import { AuthorityKeyError } from '../stratum/v2/errors.js';
import { NodeEntryError, nodePasswords, parseNodeEntries, sameNodeUrl, type GivenNode } from './node-entries.js';
import { redactNotifyUrl } from '../telemetry/notify/targets.js';
import { isLoopbackHost } from '../telemetry/status-auth.js';
import type { Network } from '../node/networks.js';

/** Bad configuration: one line, naming the field as the user spelled it. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    /** The field as the user spelled it: `--threads`, `SOLOMINER_THREADS`, `config.json threads`, `config.json`. */
    readonly field: string,
    detail: string,
  ) {
    super(`${field}: ${detail}`);
  }
}

export interface LoadMineConfigOptions {
  /** The arguments after `mine` (parsed here), or */
  readonly argv?: readonly string[];
  /** flags the command line parser already read, keyed by flag name (`rpc-url`, `config`). */
  readonly flags?: Readonly<Record<string, string | boolean | readonly string[] | undefined>>;
  readonly env: NodeJS.ProcessEnv;
  /** Folder that relative command-line and environment paths, and ./config.json, are relative to. */
  readonly cwd: string;
  /**
   * `check` looks at everything even when no payout address is set: the address is then
   * NO_ADDRESS instead of a ConfigError (probes report it as a failed item), unless the
   * configuration needs none (payoutAddressOptional).
   */
  readonly allowMissingAddress?: boolean;
}

/** The address of a configuration loaded with allowMissingAddress and no address anywhere. */
export const NO_ADDRESS = 'address-not-set';

export const CONFIG_FLAG = 'config';
export const CONFIG_ENV = 'SOLOMINER_CONFIG';
export const DEFAULT_CONFIG_FILE = 'config.json';

/** parseArgs options of `mine`: every field's flag, plus --config. */
export const MINE_FLAG_OPTIONS: NonNullable<ParseArgsConfig['options']> = Object.fromEntries([
  [CONFIG_FLAG, { type: 'string' }],
  ...MINE_FIELDS.map((f) => [f.flag, { type: f.flagType, ...(f.repeatable && { multiple: true }) }]),
]);

const SECRET_FLAGS = new Set(MINE_FIELDS.filter((f) => f.secret).map((f) => `--${f.flag}`));

interface Candidate {
  readonly from: 'flag' | 'env' | 'file';
  /** The field as the user spelled it. */
  readonly label: string;
  readonly raw: unknown;
  /** Folder relative paths are relative to. */
  readonly base: string;
}

export async function loadMineConfig(options: LoadMineConfigOptions): Promise<MineConfig> {
  const { env, cwd } = options;
  const argv = options.argv ?? [];
  const secrets = secretValues(argv, options.flags ?? {}, env);
  try {
    const flags = options.flags !== undefined ? { ...options.flags } : parseFlags(argv);
    return await load(flags, env, cwd, secrets, options.allowMissingAddress === true);
  } catch (err) {
    // Belt and braces: whatever went wrong, a password given anywhere never reaches the message.
    if (err instanceof ConfigError) throw scrub(err, secrets);
    throw err;
  }
}

async function load(flags: FlagValues, env: NodeJS.ProcessEnv, cwd: string, secrets: string[], allowMissingAddress: boolean): Promise<MineConfig> {
  const file = await readConfigFile(flags, env, cwd);
  for (const f of MINE_FIELDS) {
    const v = f.secret ? file?.values[f.key] : undefined;
    if (typeof v === 'string') secrets.push(v);
  }
  secrets.push(...nodePasswords(file?.values.nodes));

  const winners = new Map<FieldKey, Candidate>();
  for (const f of MINE_FIELDS) {
    const c = candidate(f, flags, env, file, cwd);
    if (c !== undefined) winners.set(f.key, c);
  }

  const values: Partial<Record<FieldKey, unknown>> = {};
  for (const [key, c] of winners) values[key] = validate(FIELD_BY_KEY[key], c);

  if (values.address === undefined && allowMissingAddress && !payoutAddressOptional(values)) values.address = NO_ADDRESS;
  const config = applyDefaults(values, winners, file, cwd);
  const checked = mineConfigSchema.safeParse(config);
  if (!checked.success) {
    // Unreachable unless the defaults above disagree with the schema; never echo values.
    const issue = checked.error.issues[0];
    throw new ConfigError('configuration', `internal check failed at ${issue?.path.join('.') ?? '?'}`);
  }
  return checked.data;
}

// ---------------------------------------------------------------------------------------------
// Flags

type FlagValues = Record<string, string | boolean | readonly string[] | undefined>;

function parseFlags(argv: readonly string[]): FlagValues {
  try {
    return parseArgs({ args: [...argv], options: MINE_FLAG_OPTIONS, strict: true, allowPositionals: false }).values as FlagValues;
  } catch (err) {
    const e = err as { code?: string; message?: string };
    const message = String(e.message ?? err);
    const quoted = /'(-{1,2}[^' =]+)/.exec(message)?.[1];
    switch (e.code) {
      case 'ERR_PARSE_ARGS_UNKNOWN_OPTION': {
        const flag = quoted ?? 'flag';
        const hint = suggest(flag.replace(/^-+/, ''), MINE_FIELDS.map((f) => f.flag).concat(CONFIG_FLAG));
        throw new ConfigError(flag, `unknown flag${hint === undefined ? '' : ` (did you mean --${hint}?)`}; mine --help lists the flags`);
      }
      case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
        const flag = quoted ?? 'flag';
        if (/does not take an argument/.test(message)) throw new ConfigError(flag, 'takes no value (it is a switch)');
        const f = MINE_FIELDS.find((x) => `--${x.flag}` === flag);
        const expected = `expected ${f?.expected ?? 'a value'}`;
        // Not echoed: the next argument may be a password that starts with '-'.
        if (/ambiguous/.test(message)) throw new ConfigError(flag, `${expected}, got an argument starting with '-' (write ${flag}=<value> if that is the value)`);
        throw new ConfigError(flag, `${expected}, got nothing`);
      }
      case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL': {
        // A stray word may be the rest of an unquoted password ("--rpc-password two words").
        const secretGiven = argv.some((a) => SECRET_FLAGS.has(a.split('=')[0]!));
        const shown = secretGiven ? '' : ` ${show(argv[positionalIndex(argv)])}`;
        throw new ConfigError('mine', `unexpected argument${shown}; mine takes only flags (--name value)`);
      }
      default:
        throw new ConfigError('mine', 'cannot read the command line; mine --help lists the flags');
    }
  }
}

/** Index of the first argument parseArgs would call positional (strict mode already passed the flags). */
function positionalIndex(argv: readonly string[]): number {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') return i + 1;
    if (!a.startsWith('-') || a === '-') return i;
    const name = a.replace(/^-+/, '').split('=')[0]!;
    const opt = MINE_FLAG_OPTIONS[name];
    if (opt?.type === 'string' && !a.includes('=')) i++;
  }
  return argv.length - 1;
}

// ---------------------------------------------------------------------------------------------
// Config file

interface ConfigFile {
  /** How the user named the file: the --config / SOLOMINER_CONFIG text, or "config.json". */
  readonly label: string;
  readonly dir: string;
  readonly values: Record<string, unknown>;
}

async function readConfigFile(flags: FlagValues, env: NodeJS.ProcessEnv, cwd: string): Promise<ConfigFile | undefined> {
  const fromFlag = flags[CONFIG_FLAG];
  const fromEnv = nonEmpty(env[CONFIG_ENV]);
  const named = typeof fromFlag === 'string' ? { by: `--${CONFIG_FLAG}`, name: fromFlag } : fromEnv !== undefined ? { by: CONFIG_ENV, name: fromEnv } : undefined;
  if (named !== undefined && named.name === '') throw new ConfigError(named.by, 'expected a file path, got ""');
  const label = named?.name ?? DEFAULT_CONFIG_FILE;
  const path = resolvePath(label, cwd);

  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    if (code === 'ENOENT' && named === undefined) return undefined;
    const field = named?.by ?? label;
    if (code === 'ENOENT') throw new ConfigError(field, `file not found: ${label}`);
    if (code === 'EISDIR') throw new ConfigError(field, `expected a JSON file, got a folder: ${label}`);
    throw new ConfigError(field, `cannot read ${label} (${code})`);
  }
  const json = parseJsonText(text);
  if ('error' in json) throw new ConfigError(label, json.error);
  const parsed = json.value;
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    const got = Array.isArray(parsed) ? 'an array' : parsed === null ? 'null' : `a ${typeof parsed}`;
    throw new ConfigError(label, `expected a JSON object such as {"network": "main"}, got ${got}`);
  }

  // Unknown keys are always an error; field values are checked only where the file's value wins.
  const shape = mineConfigFileSchema.safeParse(parsed);
  const unknown = shape.success ? undefined : shape.error.issues.find((i) => i.code === 'unrecognized_keys');
  if (unknown !== undefined && unknown.code === 'unrecognized_keys') {
    const key = unknown.keys[0]!;
    const hint = suggest(key, MINE_FIELDS.map((f) => f.key));
    throw new ConfigError(
      `${label} ${key}`,
      `unknown key${hint === undefined ? '' : ` (did you mean ${hint}?)`}; keys are the camelCase field names such as rpcUrl`,
    );
  }
  return { label, dir: dirname(path), values: parsed as Record<string, unknown> };
}

// ---------------------------------------------------------------------------------------------
// Fields

function candidate(f: FieldSpec, flags: FlagValues, env: NodeJS.ProcessEnv, file: ConfigFile | undefined, cwd: string): Candidate | undefined {
  const flag = flags[f.flag];
  if (flag !== undefined) return { from: 'flag', label: `--${f.flag}`, raw: flag, base: cwd };
  const fromEnv = nonEmpty(env[f.env]);
  if (fromEnv !== undefined) return { from: 'env', label: f.env, raw: fromEnv, base: cwd };
  const fromFile = file?.values[f.key];
  if (file !== undefined && fromFile !== undefined && fromFile !== null) return { from: 'file', label: `${file.label} ${f.key}`, raw: fromFile, base: file.dir };
  return undefined;
}

function validate(f: FieldSpec, c: Candidate): unknown {
  if (f.key === 'nodes') {
    try {
      return parseNodeEntries(c.raw, c.base);
    } catch (err) {
      if (err instanceof NodeEntryError) throw new ConfigError(err.where === '' ? c.label : `${c.label} ${err.where}`, err.detail);
      throw err;
    }
  }
  const input = c.from === 'file' || typeof c.raw !== 'string' ? c.raw : valueFromText(f.text, c.raw);
  const result = fieldSchemas[f.key].safeParse(input);
  if (!result.success) {
    const issue = result.error.issues[0];
    const custom = issue?.code === 'custom' && issue.message.startsWith('expected ') ? issue.message : undefined;
    // In JSON a boolean is just true or false; the 1/0, yes/no spellings are for text.
    const expected = c.from === 'file' && f.text === 'boolean' ? 'true or false' : f.expected;
    throw new ConfigError(c.label, `${custom ?? `expected ${expected}`}${got(f, c)}`);
  }
  const value = result.data;
  return f.isPath && typeof value === 'string' ? resolvePath(value, c.base) : value;
}

/** ", got ..." — nothing for a secret, credentials blanked in a URL, a byte count for a long tag. */
function got(f: FieldSpec, c: Candidate): string {
  if (f.secret) return '';
  if (f.key === 'rpcUrl' && typeof c.raw === 'string') return `, got ${show(redactUrl(c.raw))}`;
  if (f.key === 'notify') {
    // A notification URL may carry a token anywhere: shown redacted, never as given.
    const list = Array.isArray(c.raw) ? c.raw : typeof c.raw === 'string' ? c.raw.split(/[\s,]+/).filter((x) => x !== '') : [c.raw];
    return `, got ${list.map((u) => (typeof u === 'string' ? redactNotifyUrl(u) : show(u))).join(', ')}`;
  }
  if (f.key === 'coinbaseTag' && typeof c.raw === 'string') return `, got ${Buffer.byteLength(c.raw, 'utf8')} bytes`;
  if (c.from === 'file' && typeof c.raw !== 'string') {
    const kind = Array.isArray(c.raw) ? 'an array' : typeof c.raw === 'object' ? 'an object' : undefined;
    return `, got ${kind ?? show(c.raw)}`;
  }
  return `, got ${show(c.raw)}`;
}

/** Anything before the last '@' of a URL-like text (the user:password part) → "***". */
export function redactUrl(text: string): string {
  return text.includes('@') ? text.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)?[^]*@/, '$1***@') : text;
}

function show(value: unknown): string {
  const s = JSON.stringify(value) ?? String(value);
  return s.length > 72 ? `${s.slice(0, 70)}…"` : s;
}

// ---------------------------------------------------------------------------------------------
// Defaults and rules across fields

function applyDefaults(values: Partial<Record<FieldKey, unknown>>, winners: Map<FieldKey, Candidate>, file: ConfigFile | undefined, cwd: string): Record<string, unknown> {
  const fileLabel = file?.label ?? DEFAULT_CONFIG_FILE;
  const spellings = (key: FieldKey) => {
    const f = FIELD_BY_KEY[key];
    return `--${f.flag}, ${f.env} or ${fileLabel} ${f.key}`;
  };

  const enginesGiven = winners.get('engines');
  if (enginesGiven !== undefined && Array.isArray(values.engines) && values.engines.length === 0 && values.stratumPort === undefined && values.sv2Port === undefined) {
    throw new ConfigError(enginesGiven.label, `none needs a Stratum pool to serve (${spellings('stratumPort')}, or ${spellings('sv2Port')}): nothing would mine`);
  }
  const pool = winners.get('pool');
  if (pool !== undefined) {
    // Through a pool the node side is the pool's: flags for a node would be ignored silently.
    for (const key of ['rpcUrl', 'zmq', 'nodes', 'stratumPort', 'sv2Port', 'maxBlocks', 'smokeTest', 'smokeNetwork'] as const) {
      const given = winners.get(key);
      if (given !== undefined && given.from !== 'file') {
        throw new ConfigError(given.label, `conflicts with ${pool.label}: --pool mines through a pool, without a node (leave out ${given.label}, or --pool to mine from the node)`);
      }
    }
    if (values.user === undefined) throw new ConfigError(pool.label, `needs a pool user name: ${spellings('user')} (solo pools: your address, then .worker)`);
    const urls = values.pool as readonly string[];
    const sv2 = urls.filter((u) => u.startsWith('stratum2+tcp://'));
    if (sv2.length > 0 && sv2.length < urls.length) {
      throw new ConfigError(pool.label, 'expected URLs of one protocol: fail-over goes from one pool to the next of the same kind (all stratum+tcp://, or all stratum2+tcp://)');
    }
    for (const u of sv2) {
      try {
        decodeAuthorityKey(u.slice(u.lastIndexOf('/') + 1));
      } catch (err) {
        if (err instanceof AuthorityKeyError) throw new ConfigError(pool.label, `${u}: the ${err.message} (copy it again from the pool's start-up line, /status or dashboard)`);
        throw err;
      }
    }
  } else {
    for (const key of ['user', 'suggestDifficulty'] as const) {
      const given = winners.get(key);
      if (given !== undefined && given.from !== 'file') throw new ConfigError(given.label, `only means something with --pool (${spellings('pool')})`);
    }
    if (values.address === undefined && !payoutAddressOptional(values)) throw new ConfigError('--address', `required: the payout address (or ${FIELD_BY_KEY.address.env}, or ${fileLabel} address)`);
  }

  const user = winners.get('rpcUser');
  const password = winners.get('rpcPassword');
  const cookie = winners.get('rpcCookie');
  if (user !== undefined && password === undefined) throw new ConfigError(user.label, `needs a password as well (${spellings('rpcPassword')})`);
  if (password !== undefined && user === undefined) throw new ConfigError(password.label, `needs a user as well (${spellings('rpcUser')})`);
  if (user !== undefined && cookie !== undefined) {
    throw new ConfigError(cookie.label, `conflicts with ${user.label}: log in with a cookie file or with a user and password, not both`);
  }

  // The status port beyond loopback serves the miner's state to the network: only with a token.
  const metricsHost = (values.metricsHost as string | undefined) ?? DEFAULTS.metricsHost;
  if (values.metricsPort !== undefined && values.statusToken === undefined && !isLoopbackHost(metricsHost)) {
    throw new ConfigError(
      winners.get('metricsHost')?.label ?? `--${FIELD_BY_KEY.metricsHost.flag}`,
      `${metricsHost} is beyond loopback: the status port needs a token there (${spellings('statusToken')}), or listen on 127.0.0.1`,
    );
  }

  // The temperature limit: resume below pause, with room between (hysteresis).
  const resumeGiven = winners.get('resumeTemp');
  if (resumeGiven !== undefined && values.maxTemp === undefined) {
    throw new ConfigError(resumeGiven.label, `needs a limit to resume below (${spellings('maxTemp')})`);
  }
  const maxTemp = values.maxTemp as number | undefined;
  const resumeTemp = maxTemp === undefined ? undefined : ((values.resumeTemp as number | undefined) ?? maxTemp - 5);
  if (maxTemp !== undefined && resumeTemp !== undefined && !(resumeTemp < maxTemp)) {
    throw new ConfigError(resumeGiven?.label ?? `--${FIELD_BY_KEY.resumeTemp.flag}`, `expected a temperature below ${winners.get('maxTemp')?.label ?? '--max-temp'} ${maxTemp}, got ${resumeTemp}`);
  }

  const network = (values.network ?? DEFAULTS.network) as Network;
  const reportDir = (values.reportDir as string | undefined) ?? resolve(cwd, DEFAULTS.reportDir);
  const nodes = resolveNodes(values, winners, network, spellings);
  const first = nodes[0]!;
  return {
    network,
    rpcUrl: first.rpcUrl,
    rpcUser: first.rpcUser,
    rpcPassword: first.rpcPassword,
    rpcCookie: first.rpcCookie,
    rpcCa: first.rpcCa,
    zmq: first.zmq,
    nodes,
    address: values.address,
    coinbaseTag: values.coinbaseTag ?? DEFAULTS.coinbaseTag,
    engines: values.engines ?? [...DEFAULTS.engines],
    // Resolved here, so the start-up line and `check` show the count the engines will run.
    threads: values.threads ?? defaultThreads({ reserveCores: values.reserveCores as number | undefined, cpuAffinity: values.cpuAffinity as number[] | undefined }),
    gpuAdapter: values.gpuAdapter,
    reportDir,
    metricsPort: values.metricsPort,
    metricsHost,
    statusToken: values.statusToken,
    journal: values.journal ?? join(reportDir, DEFAULTS.journalName),
    connectTimeout: values.connectTimeout ?? DEFAULTS.connectTimeout,
    maxBlocks: values.maxBlocks,
    duration: values.duration,
    smokeTest: values.smokeTest ?? false,
    smokeNetwork: values.smokeNetwork ?? false,
    noVersionRolling: values.noVersionRolling ?? false,
    logFormat: values.logFormat ?? DEFAULTS.logFormat,
    logLevel: values.logLevel ?? DEFAULTS.logLevel,
    stratumPort: values.stratumPort,
    stratumHost: values.stratumHost ?? DEFAULTS.stratumHost,
    sv2Port: values.sv2Port,
    sv2Host: values.sv2Host ?? DEFAULTS.sv2Host,
    stratumAddresses: values.stratumAddresses,
    stratumPassword: values.stratumPassword,
    stratumDifficulty: values.stratumDifficulty ?? DEFAULTS.stratumDifficulty,
    stratumShareSeconds: values.stratumShareSeconds ?? DEFAULTS.stratumShareSeconds,
    stratumMaxConnections: values.stratumMaxConnections ?? DEFAULTS.stratumMaxConnections,
    stratumMaxPerAddress: values.stratumMaxPerAddress ?? DEFAULTS.stratumMaxPerAddress,
    pool: values.pool,
    user: values.user,
    pass: values.pass ?? DEFAULTS.pass,
    suggestDifficulty: values.suggestDifficulty,
    refreshInterval: values.refreshInterval ?? DEFAULTS.refreshInterval,
    propagationAlarm: values.propagationAlarm ?? (network === 'main' || network === 'testnet' || network === 'testnet4' ? DEFAULTS.propagationAlarm : 0),
    notify: values.notify ?? [],
    onBlock: values.onBlock,
    cpuBackend: values.cpuBackend,
    reserveCores: values.reserveCores,
    cpuAffinity: values.cpuAffinity,
    cpuPriority: values.cpuPriority,
    cpuLimit: values.cpuLimit,
    gpuTuning: values.gpuTuning,
    maxTemp,
    resumeTemp,
    pidFile: values.pidFile,
  };
}

/** A resolved node (MineConfig.nodes[i]). */
interface ResolvedNode {
  readonly rpcUrl: string;
  readonly rpcUser?: string | undefined;
  readonly rpcPassword?: string | undefined;
  readonly rpcCookie?: string | undefined;
  readonly rpcCa?: string | undefined;
  readonly zmq?: string | undefined;
}

/**
 * Every node: the one of the --rpc-* fields first — alone when no --node is given, else only when
 * --rpc-url names it — then the --node entries. An entry without a login uses --rpc-user and
 * --rpc-password when they are given (one RPC account on every node), else the network's default
 * cookie. The same node twice, or two nodes on one ZMQ endpoint: one line naming both.
 */
function resolveNodes(
  values: Partial<Record<FieldKey, unknown>>,
  winners: Map<FieldKey, Candidate>,
  network: Network,
  spellings: (key: FieldKey) => string,
): ResolvedNode[] {
  const given = (values.nodes as GivenNode[] | undefined) ?? [];
  const nodesLabel = winners.get('nodes')?.label ?? '--node';
  const user = values.rpcUser as string | undefined;
  const password = values.rpcPassword as string | undefined;
  const primary: ResolvedNode = {
    rpcUrl: (values.rpcUrl as string | undefined) ?? defaultRpcUrl(network),
    rpcUser: user,
    rpcPassword: password,
    rpcCookie: user !== undefined ? undefined : ((values.rpcCookie as string | undefined) ?? defaultCookiePath(network)),
    rpcCa: values.rpcCa as string | undefined,
    zmq: values.zmq as string | undefined,
  };
  const labelled: Array<{ node: ResolvedNode; label: string }> = [];
  if (given.length === 0 || winners.has('rpcUrl')) labelled.push({ node: primary, label: winners.get('rpcUrl')?.label ?? 'the default node' });
  else {
    // Without --rpc-url the --rpc-* fields describe no node of their own: a cookie, CA or ZMQ
    // endpoint for "the" node would silently apply to none.
    for (const key of ['rpcCookie', 'rpcCa', 'zmq'] as const) {
      const w = winners.get(key);
      if (w !== undefined) {
        throw new ConfigError(w.label, `with ${nodesLabel}, it names no node: give ${spellings('rpcUrl')} for the node it belongs to, or put it in the ${nodesLabel} entry`);
      }
    }
  }
  for (const g of given) {
    const login = g.rpcUser !== undefined ? { rpcUser: g.rpcUser, rpcPassword: g.rpcPassword } : g.rpcCookie !== undefined ? { rpcCookie: g.rpcCookie } : user !== undefined ? { rpcUser: user, rpcPassword: password } : { rpcCookie: defaultCookiePath(network) };
    labelled.push({ node: { rpcUrl: g.rpcUrl, ...login, ...(g.rpcCa !== undefined && { rpcCa: g.rpcCa }), ...(g.zmq !== undefined && { zmq: g.zmq }) }, label: `${nodesLabel} #${g.position}` });
  }
  for (let i = 0; i < labelled.length; i++) {
    for (let j = 0; j < i; j++) {
      const [a, b] = [labelled[j]!, labelled[i]!];
      if (sameNodeUrl(a.node.rpcUrl, b.node.rpcUrl)) {
        throw new ConfigError(b.label, `names the same node as ${a.label} (${b.node.rpcUrl}); give each node once`);
      }
      if (a.node.zmq !== undefined && a.node.zmq === b.node.zmq) {
        throw new ConfigError(b.label, `zmq ${b.node.zmq} is also ${a.label}'s: two nodes cannot publish on one endpoint`);
      }
    }
  }
  return labelled.map((l) => l.node);
}

// ---------------------------------------------------------------------------------------------
// Secrets and small helpers

/** Every password text given on the command line or in the environment (the file's is read later). */
function secretValues(argv: readonly string[], flags: Readonly<Record<string, unknown>>, env: NodeJS.ProcessEnv): string[] {
  const found: string[] = [];
  for (const f of MINE_FIELDS.filter((x) => x.secret)) {
    const e = env[f.env];
    if (e) found.push(e);
    const parsed = flags[f.flag];
    if (typeof parsed === 'string' && parsed !== '') found.push(parsed);
    argv.forEach((a, i) => {
      if (a === `--${f.flag}` && argv[i + 1]) found.push(argv[i + 1]!);
      else if (a.startsWith(`--${f.flag}=`)) found.push(a.slice(f.flag.length + 3));
    });
  }
  // A --node entry may carry a password (password=...).
  found.push(...nodePasswords(env[FIELD_BY_KEY.nodes.env]), ...nodePasswords(flags[FIELD_BY_KEY.nodes.flag]), ...nodePasswords(argv.filter((a, i) => argv[i - 1] === '--node' || a.startsWith('--node='))));
  return found;
}

function scrub(err: ConfigError, all: string[]): ConfigError {
  // Passwords too short to search for without mangling the message are never echoed anyway.
  const secrets = all.filter((s) => s.length >= 4);
  let message = err.message;
  for (const s of secrets) message = message.split(s).join('***');
  if (message === err.message) return err;
  const field = err.field.split(secrets.find((s) => err.field.includes(s)) ?? '\0').join('***');
  return new ConfigError(field, message.slice(message.indexOf(': ') + 2));
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}

/** A known name equal to `name` once case, '-' and '_' are ignored. */
function suggest(name: string, known: readonly string[]): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[-_]/g, '');
  // "node" for "nodes": the flag is singular (one per node), the file's list plural.
  return known.find((k) => norm(k) === norm(name) || norm(k) === `${norm(name)}s`);
}

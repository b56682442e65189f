// solominer scan --header <160 hex> [--start n] [--count n] (--target <64 hex> | --bits <8 hex>)
//                [--engine cpu|gpu] [--backend b] [--threads n] [--json]
// Every nonce of a range whose double SHA-256 meets a target (docs/cli.md, "scan").
import type { CommandUnknownOpts } from '@commander-js/extra-typings';

import { bitsFromHex, bitsToTarget, targetToBytes } from '../bitcoin/target.js';
import { BitcoinError } from '../bitcoin/errors.js';
import { createEngine, ENGINE_KINDS } from '../engines/create-engine.js';
import { scanRange } from '../engines/scan-range.js';
import { NONCE_SPACE } from '../engines/work-checks.js';
import { newCommand, type RunState } from './command-kit.js';
import { asFlagError, choiceFlag, hexFlag, intFlag } from './flags.js';
import { UsageError } from './usage-error.js';

function targetFromFlags(target: string | undefined, bits: string | undefined): Uint8Array {
  if ((target === undefined) === (bits === undefined)) {
    throw new UsageError('scan: give exactly one of --target <64 hex> or --bits <8 hex>');
  }
  if (target !== undefined) {
    const bytes = hexFlag('target', target, 32);
    if (bytes.every((b) => b === 0)) throw new UsageError('--target: expected a non-zero target');
    return bytes;
  }
  hexFlag('bits', bits!, 4);
  try {
    return targetToBytes(bitsToTarget(bitsFromHex(bits!)));
  } catch (err) {
    if (err instanceof BitcoinError) throw new UsageError(`--bits: ${err.what}`);
    throw err;
  }
}

export function scanCommand(state: RunState): CommandUnknownOpts {
  const cmd = newCommand('scan', 'search one nonce range of one header: every nonce whose double SHA-256 is at or below the target')
    .option('--header <hex>', 'the 80-byte block header, 160 hex digits (its nonce field is ignored)')
    .option('--start <n>', 'first nonce (default: 0)')
    .option('--count <n>', 'nonces to try (default: the rest of the 32-bit nonce space)')
    .option('--target <hex>', 'target, 64 hex digits in display order (or --bits)')
    .option('--bits <hex>', "target as a header's nBits, 8 hex digits (or --target)")
    .option('--engine <cpu|gpu>', 'engine (default: cpu)')
    .option('--backend <name>', 'CPU back end or GPU adapter (default: the fastest this machine runs)')
    .option('--threads <n>', 'CPU threads (default: all cores)')
    .option('--json', 'one JSON object on stdout', false);
  cmd.action(async (flags) => {
    state.code = await scan(flags);
  });
  return cmd;
}

interface ScanFlags {
  header?: string | undefined;
  start?: string | undefined;
  count?: string | undefined;
  target?: string | undefined;
  bits?: string | undefined;
  engine?: string | undefined;
  backend?: string | undefined;
  threads?: string | undefined;
  json: boolean;
}

async function scan(flags: ScanFlags): Promise<number> {
  if (flags.header === undefined) throw new UsageError('--header: required (160 hex digits: the 80-byte block header)');
  const header = hexFlag('header', flags.header, 80);
  const target = targetFromFlags(flags.target, flags.bits);
  const start = intFlag('start', flags.start, 0, NONCE_SPACE - 1, 0);
  const count = intFlag('count', flags.count, 1, NONCE_SPACE, NONCE_SPACE - start);
  if (start + count > NONCE_SPACE) {
    throw new UsageError(`--count: the range ends past nonce 4294967295 (at most ${NONCE_SPACE - start} from --start ${start})`);
  }
  const kind = choiceFlag('engine', flags.engine, ENGINE_KINDS, 'cpu');
  const threads = flags.threads === undefined ? undefined : intFlag('threads', flags.threads, 1, 1024, 1);
  const engine = await createEngine({
    kind,
    ...(flags.backend !== undefined && { backend: flags.backend }),
    ...(threads !== undefined && { threads }),
  }).catch((err: unknown) => {
    throw asFlagError(err);
  });

  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const result = await scanRange(engine, { id: 'scan', header, target, start, count }, abort.signal);
    if (flags.json) {
      process.stdout.write(
        `${JSON.stringify({
          engine: engine.kind,
          backend: engine.backend,
          hashes: result.hashes,
          seconds: result.seconds,
          found: result.found.map((f) => ({ nonce: f.nonce, hash: f.hash })),
        })}\n`,
      );
    } else {
      for (const f of result.found) process.stdout.write(`nonce ${f.nonce} hash ${f.hash}\n`);
      const rate = result.seconds > 0 ? result.hashes / result.seconds : 0;
      process.stderr.write(
        `${engine.kind}/${engine.backend} x${engine.threads}: ${result.hashes} hashes in ${result.seconds.toFixed(3)} s ` +
          `(${(rate / 1e6).toFixed(2)} MH/s), ${result.found.length} found${result.stopped ? ', interrupted' : ''}\n`,
      );
    }
    return result.stopped ? 1 : 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await engine.close();
  }
}

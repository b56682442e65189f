// What every solominer command shares on top of commander: the same error handling (one line,
// exit 2, never a value that may be a secret), help on stdout, and options generated from the
// configuration's field table so that a flag, its variable, its config key, its default and its
// help text come from one place (src/config/mine-config.ts).
import { Command, CommanderError, Option, type CommandUnknownOpts } from '@commander-js/extra-typings';

import { envName, MINE_FIELDS, type FieldSpec } from '../config/mine-config.js';
import { UsageError } from './usage-error.js';

/** Where a command's action leaves its exit code (commander actions return nothing). */
export interface RunState {
  code: number;
}

/**
 * A subcommand with solominer's conventions: commander never prints or exits by itself (errors
 * are thrown and mapped to one line by main.ts), help goes to stdout, and no command takes
 * positional arguments unless it says so.
 */
export function newCommand(name: string, summary: string): Command {
  return new Command(name)
    .description(summary)
    .helpOption('-h, --help', 'show this help')
    .exitOverride()
    .configureOutput({ writeOut: (s) => process.stdout.write(s), writeErr: () => {}, outputError: () => {} })
    .configureHelp({ helpWidth: helpWidth() })
    .allowExcessArguments(false);
}

/** `description (default: x) [SOLOMINER_X]`: what --help prints for a table field. */
export function fieldHelp(f: FieldSpec): string {
  const parts = [f.help];
  if (f.defaultText !== undefined) parts.push(`(default: ${f.defaultText})`);
  parts.push(`[${f.env}]`);
  return parts.join(' ');
}

/**
 * Adds one option per field. No defaults are given to commander: a field left out must stay
 * unset so that the environment and the config file can still provide it (the loader applies
 * the defaults last). Repeatable fields collect every value given.
 */
export function addFieldOptions(cmd: CommandUnknownOpts, fields: readonly FieldSpec[]): void {
  for (const f of fields) {
    const flags = f.flagType === 'boolean' ? `--${f.flag}` : `--${f.flag} <${f.arg ?? 'value'}>`;
    const option = new Option(flags, fieldHelp(f));
    if (f.repeatable) option.argParser((value: string, previous: unknown) => [...(Array.isArray(previous) ? (previous as string[]) : []), value]);
    cmd.addOption(option);
  }
}

/** The parsed values of table fields, keyed by flag name as the config loader takes them. */
export function fieldValues(cmd: CommandUnknownOpts, fields: readonly FieldSpec[], extra: readonly string[] = []): Record<string, string | boolean | string[] | undefined> {
  const opts = cmd.opts() as Record<string, unknown>;
  const out: Record<string, string | boolean | string[] | undefined> = {};
  for (const f of fields) {
    if (f.flagType === 'boolean' && f.flag.startsWith('no-')) {
      // commander reads --no-x as x = false with a default of true: only a flag actually given counts.
      const attribute = f.flag.slice(3).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
      if (cmd.getOptionValueSource(attribute) === 'cli' && opts[attribute] === false) out[f.flag] = true;
      continue;
    }
    // commander names an option after its flag (--node → node), which is not always the key (nodes).
    const v = opts[f.flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())];
    if (typeof v === 'string' || typeof v === 'boolean' || Array.isArray(v)) out[f.flag] = v as string | boolean | string[];
  }
  for (const name of extra) {
    const key = name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    const v = opts[key];
    if (typeof v === 'string' || typeof v === 'boolean') out[name] = v;
  }
  return out;
}

/** The footer of a table-driven command's help: where else each flag can be set. */
export function fieldSourcesHelp(example: FieldSpec): string {
  return (
    `\nEvery flag can also be set in the environment (SOLOMINER_ + the flag in capitals, e.g. ${envName(example.flag)})\n` +
    `or in the --config file as its camelCase key (e.g. "${example.key}"); flags win over variables,\n` +
    'variables over the file (default ./config.json, optional).\n'
  );
}

const SECRET_FLAGS = new Set(MINE_FIELDS.filter((f) => f.secret).map((f) => `--${f.flag}`));

/** A known name equal to `name` once case, '-' and '_' are ignored, or one edit away. */
export function suggestName(name: string, known: readonly string[]): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[-_]/g, '');
  const exact = known.find((k) => norm(k) === norm(name));
  if (exact !== undefined) return exact;
  return known.find((k) => editDistance(norm(k), norm(name)) <= 1);
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

/**
 * commander detected a bad command line (its error code says what kind); this names the
 * argument that caused it in solominer's words, from the command's own option list — never
 * echoing a value, which may be a password.
 */
export function explainParseError(err: CommanderError, cmd: CommandUnknownOpts, args: readonly string[], expectedOf: (long: string) => string | undefined): UsageError {
  const name = cmd.name();
  const options = cmd.options;
  const find = (token: string) => options.find((o) => o.long === token || o.short === token);
  const secretGiven = args.some((a) => SECRET_FLAGS.has(a.split('=')[0]!));
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') break;
    if (a.startsWith('-') && a !== '-') {
      const flag = a.split('=')[0]!;
      const option = find(flag);
      if (option === undefined) {
        if (err.code !== 'commander.unknownOption') continue;
        const hint = suggestName(flag.replace(/^-+/, ''), options.map((o) => (o.long ?? '').replace(/^--/, '')).filter((s) => s !== ''));
        return new UsageError(`${flag}: unknown flag${hint === undefined ? '' : ` (did you mean --${hint}?)`}; ${name} --help lists the flags`);
      }
      if (!option.required || a.includes('=')) continue;
      if (i + 1 >= args.length) {
        const expected = expectedOf(option.long ?? flag) ?? (option.flags.replace(/^\S+\s*/, '') || 'a value');
        return new UsageError(`${option.long ?? flag}: expected ${expected}, got nothing`);
      }
      i++;
      continue;
    }
    if (err.code === 'commander.excessArguments') {
      // A stray word may be the rest of an unquoted password ("--rpc-password two words").
      return new UsageError(`unexpected argument${secretGiven ? '' : ` ${JSON.stringify(a)}`}; ${name} takes only flags (--name value)`);
    }
  }
  return new UsageError(`cannot read the command line (${err.code.replace(/^commander\./, '')}); ${name} --help lists the flags`);
}

/** Help width: the terminal's, else $COLUMNS, else wide enough for one line per flag mostly. */
export function helpWidth(): number {
  return process.stdout.columns ?? (Number(process.env.COLUMNS) || 130);
}

// Runs the real `solominer` entry point as a user would, capturing output and exit code.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { runNode } from './node-child.js';

export const BIN = fileURLToPath(new URL('../../../bin/solominer.js', import.meta.url));

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function runCli(args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
  return runNode([BIN, ...args], options);
}

/** A `solominer` process that keeps running: its output as it comes, and waits on its lines. */
export class CliProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  private readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly waiters = new Set<() => void>();

  /** `wrapper`: a command the miner runs under, e.g. ['taskset', '-c', '0,1']. */
  constructor(args: string[], options: { env?: NodeJS.ProcessEnv; wrapper?: string[] } = {}) {
    const [command, ...prefix] = [...(options.wrapper ?? []), process.execPath];
    this.child = spawn(command!, [...prefix, BIN, ...args], { env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const seen = () => {
      for (const w of [...this.waiters]) w();
    };
    this.child.stdout!.on('data', (d: Buffer) => {
      this.stdout += d.toString();
      seen();
    });
    this.child.stderr!.on('data', (d: Buffer) => {
      this.stderr += d.toString();
      seen();
    });
    this.exited = new Promise((resolve) => this.child.on('close', (code, signal) => resolve({ code, signal })));
    void this.exited.then(seen);
  }

  /**
   * Resolves with the `times`-th match of `pattern` in stderr+stdout once it appears (or has).
   * Counting is done with a global search, never a pattern repeated over the whole output
   * (which backtracks without end on megabytes of log).
   */
  waitFor(pattern: RegExp, timeoutMs = 30_000, times = 1): Promise<RegExpMatchArray> {
    const global = new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`);
    return new Promise((resolve, reject) => {
      const check = () => {
        const all = [...(this.stderr + this.stdout).matchAll(global)];
        const m = all[times - 1];
        if (m) {
          done();
          resolve(m);
        } else if (this.child.exitCode !== null || this.child.signalCode !== null) {
          done();
          reject(new Error(`the process ended before printing ${pattern}:\n${this.stderr.slice(-2000)}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no ${pattern} within ${timeoutMs} ms:\n${this.stderr.slice(-2000)}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Sends `signal` and resolves with how the process ended. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }
}

// Docker from the container tests: the CLI as a user runs it, with everything the tests make
// labelled for scripts/test-container.mjs, which removes it at the end (also on failure).
// The runner passes the images it built and the label in the environment.
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { createInterface } from 'node:readline';

export const DOCKER = process.env.DOCKER ?? 'docker';
export const COMPOSE = process.env.DOCKER_COMPOSE ?? 'docker-compose';

function required(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run these tests with npm run test:container`);
  return v;
}

/** The solominer image and the try-it node image scripts/test-container.mjs built. */
export const IMAGE = required('SOLOMINER_TEST_IMAGE');
export const NODE_IMAGE = required('SOLOMINER_TEST_NODE_IMAGE');
/** name=value: every container, network and volume a test makes carries it. */
export const LABEL = required('SOLOMINER_TEST_LABEL');
/** A prefix for names, unique to this run. */
export const PREFIX = `smtest-${LABEL.split('=')[1]!.replace(/[^a-z0-9-]/g, '')}`;

export interface Result {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to its end (or kills it after `timeoutMs`). */
export function exec(command: string, args: readonly string[], options: { timeoutMs?: number; env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')}: no exit within ${options.timeoutMs} ms\n${stdout}${stderr}`));
    }, options.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

export function docker(args: readonly string[], timeoutMs = 120_000): Promise<Result> {
  return exec(DOCKER, args, { timeoutMs });
}

/** docker …, which must succeed; its stdout trimmed. */
export async function dockerOk(args: readonly string[], timeoutMs = 120_000): Promise<string> {
  const r = await docker(args, timeoutMs);
  if (r.code !== 0) throw new Error(`docker ${args.join(' ')}: exit ${r.code}: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

/** The last non-empty line of a container's combined output. */
export function lastLine(r: Result): string {
  return `${r.stdout}\n${r.stderr}`.trim().split('\n').filter((l) => l.trim() !== '').at(-1) ?? '';
}

/**
 * A stream of lines from a command that keeps running (`docker logs -f`, `docker events`), with
 * a wait for the first line that matches, past or future.
 */
export class LineStream {
  readonly lines: string[] = [];
  private readonly events = new EventEmitter();
  readonly child: ChildProcess;

  constructor(command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env) {
    this.child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    for (const s of [this.child.stdout!, this.child.stderr!]) {
      createInterface({ input: s }).on('line', (line) => {
        this.lines.push(line);
        this.events.emit('line', line);
      });
    }
  }

  waitFor(pattern: RegExp, timeoutMs: number, what = String(pattern)): Promise<RegExpExecArray> {
    for (const l of this.lines) {
      const m = pattern.exec(l);
      if (m) return Promise.resolve(m);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.events.off('line', on);
        reject(new Error(`no line matching ${what} within ${timeoutMs} ms; the last lines:\n${this.lines.slice(-20).join('\n')}`));
      }, timeoutMs);
      const on = (line: string) => {
        const m = pattern.exec(line);
        if (!m) return;
        clearTimeout(timer);
        this.events.off('line', on);
        resolve(m);
      };
      this.events.on('line', on);
    });
  }

  stop(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
  }
}

/** `docker logs -f <container>`: its output as it comes. */
export function follow(container: string): LineStream {
  return new LineStream(DOCKER, ['logs', '-f', container]);
}

/** The host port a container's port is published on. */
export async function publishedPort(container: string, port: number): Promise<number> {
  const out = await dockerOk(['port', container, String(port)]);
  const m = /:(\d+)\s*$/m.exec(out);
  if (!m) throw new Error(`docker port ${container} ${port}: ${out}`);
  return Number(m[1]);
}

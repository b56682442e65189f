// Runs an ES module script in a fresh node process (its own environment, so its own Vulkan
// loader state), capturing its output: for what only a new process shows, such as exiting by
// itself or what reaches the terminal.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface ChildResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The compiled module `path` (relative to dist/test/support) as a URL for the script's import(). */
export function moduleUrl(path: string): string {
  return new URL(path, import.meta.url).href;
}

export interface RunOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** Killed (SIGKILL) after this long; default 60 s. */
  readonly timeoutMs?: number;
  readonly cwd?: string;
}

/** Runs node with `args`, capturing its output; killed after `timeoutMs` (default 60 s). */
export function runNode(args: readonly string[], options: RunOptions = {}): Promise<ChildResult> {
  return runCommand(process.execPath, args, options);
}

/** Runs any program with `args`, capturing its output; killed after `timeoutMs` (default 60 s). */
export function runCommand(command: string, args: readonly string[], options: RunOptions = {}): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      ...(options.cwd !== undefined && { cwd: options.cwd }),
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Runs `script` with `node --input-type=module -e` in the repository root. */
export function runModuleScript(script: string, options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<ChildResult> {
  return runNode(['--input-type=module', '-e', script], { ...options, cwd: fileURLToPath(new URL('../../..', import.meta.url)) });
}

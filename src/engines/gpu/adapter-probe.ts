// Asks for WebGPU adapters in a short child process before this process loads Dawn. Where Dawn
// finds no adapter it prints the Vulkan loader's warnings and its own source locations to
// stderr, and the `webgpu` package offers no switch for that (its create() flags choose a
// backend, an adapter and Dawn toggles; Dawn's warnings go straight to stderr). In a child the
// lines are captured, and the caller gets one summarising line instead. Only a success is
// remembered: a later call after a failure probes again (a driver may have come back).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('./adapter-probe-child.js', import.meta.url));
const PROBE_TIMEOUT_MS = 20_000;

export type ProbeVerdict =
  | { readonly ok: true; readonly adapters: readonly string[] }
  | { readonly ok: false; readonly reason: 'no-adapter' | 'failed'; readonly detail: string };

let succeeded: Promise<ProbeVerdict> | undefined;

/** The adapters a fresh process sees, or why it saw none; Dawn's stderr is summarised into `detail`. */
export function probeAdapters(): Promise<ProbeVerdict> {
  if (succeeded) return succeeded;
  const attempt = runProbe();
  succeeded = attempt.then((verdict) => {
    if (!verdict.ok) succeeded = undefined;
    return verdict;
  });
  return succeeded;
}

/** The first line of Dawn's or the loader's stderr that says something (no source locations), without its "Warning:" prefix. */
export function summariseStderr(stderr: string): string {
  const line = stderr
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l !== '' && !l.startsWith('at '));
  if (line === undefined) return 'no message';
  const text = line.replace(/^(Warning|Error):\s*/, '');
  return text.length > 200 ? `${text.slice(0, 197)}...` : text;
}

function runProbe(): Promise<ProbeVerdict> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CHILD], { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), PROBE_TIMEOUT_MS);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ ok: false, reason: 'failed', detail: `cannot start ${process.execPath}: ${err.message}` });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const last = stdout.trim().split('\n').at(-1) ?? '';
      let adapters: string[] | undefined;
      try {
        adapters = (JSON.parse(last) as { adapters?: string[] }).adapters;
      } catch {
        adapters = undefined;
      }
      if (code === 0 && Array.isArray(adapters)) {
        resolve(adapters.length > 0 ? { ok: true, adapters } : { ok: false, reason: 'no-adapter', detail: summariseStderr(stderr) });
        return;
      }
      const how = signal === 'SIGKILL' ? `no answer within ${PROBE_TIMEOUT_MS / 1000} s` : signal ? `killed by ${signal}` : `exit code ${code}`;
      resolve({ ok: false, reason: 'failed', detail: `${how}: ${summariseStderr(stderr)}` });
    });
  });
}

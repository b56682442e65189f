// `solominer status --health`: the verdict a container's HEALTHCHECK (or any supervisor) asks
// for, judged from the miner's own /status document rather than from an open port: a miner whose
// port answers may still have lost its node, its work or its state folder.
import type { MinerStatus } from '../telemetry/status-document.js';

export interface HealthVerdict {
  readonly healthy: boolean;
  /** One line: what is wrong, or a short summary when nothing is. */
  readonly line: string;
}

/**
 * Healthy when the miner has work to do and somewhere to keep what it finds:
 * - mining from a node: the node is reachable and a job exists (none before the first template);
 * - mining through a pool (`--pool`): connected to one and given a job;
 * - the reports folder (where the journal lives) is writable.
 * Heat pauses (`throttled`) are intended and count as healthy.
 */
export function healthOf(s: MinerStatus): HealthVerdict {
  const problems: string[] = [];
  if (s.upstream !== undefined) {
    if (!s.upstream.connected) problems.push(`no pool connection${s.upstream.url ? ` (last ${s.upstream.url})` : ''}`);
  } else if (!s.node.reachable) problems.push('node unreachable');
  if (s.job === null) problems.push('no job yet');
  if (!s.reports.ok) problems.push(`reports folder ${s.reports.dir} failing since ${s.reports.errorSince ?? '?'}: ${s.reports.error ?? 'unknown error'}`);
  if (problems.length > 0) return { healthy: false, line: `unhealthy: ${problems.join('; ')}` };
  const height = s.job === null ? '' : ` at height ${s.job.height}`;
  return { healthy: true, line: `healthy: ${s.network} miner up ${Math.round(s.uptimeSeconds)} s, working${height}` };
}

// What the kernel shows of a process's threads in /proc/<pid>/task/<tid>/: the scanner's
// hashing threads (named sm-hash-<i>), their CPU time, scheduling, run-queue wait and CPU
// affinity. Linux only; `pid` is a number or 'self'.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export type Pid = number | 'self';

/** Clock ticks per second of the times in /proc/<pid>/stat. */
export const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

export interface TaskStat {
  /** utime + stime, in clock ticks. */
  readonly cpuTicks: number;
  readonly nice: number;
  /** 0 SCHED_OTHER, 5 SCHED_IDLE. */
  readonly policy: number;
  /** When the thread started, in clock ticks after boot. */
  readonly startTicks: number;
}

export function taskStat(pid: Pid, tid: number): TaskStat {
  const text = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
  // Fields after "(comm)": index 0 is field 3 (state), so field n is at n - 3.
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ').map(Number);
  return { cpuTicks: f[14 - 3]! + f[15 - 3]!, nice: f[19 - 3]!, policy: f[41 - 3]!, startTicks: f[22 - 3]! };
}

/** Nanoseconds a thread has spent waiting on a run queue (ready, but another task had the core). */
export function runQueueWaitNs(pid: Pid, tid: number): number {
  return Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[1]);
}

/** Seconds since boot, as /proc/<pid>/stat's start times count them. */
export function uptimeSeconds(): number {
  return Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
}

export function cpusAllowed(pid: Pid, tid: number): string {
  const line = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Cpus_allowed_list:'));
  return (line ?? '').split(':')[1]!.trim();
}

/** CPU indices as the kernel lists them: "0-3,6". */
export function rangeList(cpus: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < cpus.length; ) {
    let j = i;
    while (j + 1 < cpus.length && cpus[j + 1] === cpus[j]! + 1) j++;
    parts.push(i === j ? `${cpus[i]}` : `${cpus[i]}-${cpus[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** The scanner's hashing threads by index (the scanner names them sm-hash-<i>) → thread id. */
export function hashThreads(pid: Pid = 'self'): Map<number, number> {
  const out = new Map<number, number>();
  let tids: number[];
  try {
    tids = readdirSync(`/proc/${pid}/task`).map(Number);
  } catch {
    return out; // the process has ended
  }
  for (const tid of tids) {
    try {
      const m = /^sm-hash-(\d+)$/.exec(readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim());
      if (m) out.set(Number(m[1]), tid);
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return out;
}

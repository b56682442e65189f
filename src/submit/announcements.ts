// Every transition of a found block announced once, restarts included. The journal holds both
// what happened to each block (found, outcome and status lines) and what was announced (`notified`
// lines, written once the notifications were handed over and sent or given up). At start-up the
// difference is announced: a run that exited right after the node accepted its block, or was
// killed between journaling a move and announcing it, leaves nothing unsaid — and nothing is said
// twice.
//
// Only blocks found by a version that writes `notified` lines are accounted this way (their found
// line carries `nodes`); older blocks' past events are not announced again at an upgrade.
import { OUTCOME_STATUS, type BlockStatus } from './block-tracker.js';
import type { FoundBlockRecord, JournalRecord } from './found-block-journal.js';

/** A block event the journal says happened and no `notified` line says was announced. */
export interface Unannounced {
  readonly hash: string;
  readonly event: 'found' | 'accepted' | 'rejected' | 'orphaned' | 'restored' | 'matured';
}


/** The events the journal's lines make of each block (as the service announces them), in order. */
export function journaledEvents(records: readonly JournalRecord[], network: string): Unannounced[] {
  const status = new Map<string, BlockStatus>();
  const events: Unannounced[] = [];
  for (const r of records) {
    if (r.type === 'found') {
      const f = r as FoundBlockRecord;
      const key = f.hash.toLowerCase();
      if (f.network !== network || f.nodes === undefined || status.has(key)) continue;
      status.set(key, 'found');
      events.push({ hash: key, event: 'found' });
      continue;
    }
    if (r.type !== 'outcome' && r.type !== 'status') continue;
    const key = r.hash.toLowerCase();
    const from = status.get(key);
    if (from === undefined) continue;
    if (r.type === 'outcome') {
      // An answer settles only a block still waiting for one (block-tracker.ts foldInto).
      if (from !== 'found' && from !== 'submitted') continue;
      const to = OUTCOME_STATUS[r.outcome];
      status.set(key, to);
      if (to === 'accepted' || to === 'rejected') events.push({ hash: key, event: to });
      continue;
    }
    status.set(key, r.status);
    if (r.status === 'orphaned') events.push({ hash: key, event: 'orphaned' });
    else if (r.status === 'mature' && from !== 'mature') events.push({ hash: key, event: 'matured' });
    else if (r.restored === true || from === 'orphaned') events.push({ hash: key, event: 'restored' });
  }
  return events;
}

/** The journaled events no `notified` line accounts for, oldest first. */
export function unannounced(records: readonly JournalRecord[], network: string): Unannounced[] {
  const said = new Map<string, number>();
  for (const r of records) {
    if (r.type !== 'notified') continue;
    const k = `${r.hash.toLowerCase()} ${r.event}`;
    said.set(k, (said.get(k) ?? 0) + 1);
  }
  const out: Unannounced[] = [];
  for (const e of journaledEvents(records, network)) {
    const k = `${e.hash} ${e.event}`;
    const n = said.get(k) ?? 0;
    if (n > 0) said.set(k, n - 1);
    else out.push(e);
  }
  return out;
}

// The parts of a getblocktemplate answer (BIP22, BIP23, BIP9 §getblocktemplate, BIP141/145)
// that a solo miner builds a block from, checked field by field before any work is spent.
import { z } from 'zod';

const hex = (bytes?: number) =>
  bytes === undefined
    ? z.string().regex(/^(?:[0-9a-f]{2})*$/i, 'expected hex')
    : z.string().regex(new RegExp(`^[0-9a-f]{${bytes * 2}}$`, 'i'), `expected ${bytes * 2} hex digits`);

const u32 = z.number().int().min(0).max(0xffffffff);


const blockTemplateSchema = z.object({
  version: z.number().int().min(-0x80000000).max(0xffffffff),
  rules: z.array(z.string()),
  previousblockhash: hex(32),
  // Checked by checkTransactions below: thousands of entries, on the path to the first hash.
  transactions: z.array(z.unknown()),
  coinbasevalue: z.number().int().min(0).max(21e14),
  longpollid: z.string().optional(),
  target: hex(32),
  mintime: u32,
  curtime: u32,
  bits: hex(4),
  height: z.number().int().min(1).max(0x7fffffff),
  default_witness_commitment: hex().optional(),
  mutable: z.array(z.string()).optional(),
  // BIP9 §getblocktemplate: the deployments the node tracks (name → bit); their bits are not
  // rolled (src/bitcoin/version-rolling.ts).
  vbavailable: z.record(z.string(), z.number().int().min(0).max(31)).optional(),
});

export interface TemplateTransaction {
  /** The raw transaction, hex. */
  readonly data: string;
  /** Display hex. */
  readonly txid: string;
  /** wtxid (BIP145), display hex; equals txid for a transaction without witness. */
  readonly hash: string;
  readonly fee?: number;
  readonly weight?: number;
}
export type BlockTemplate = Omit<z.infer<typeof blockTemplateSchema>, 'transactions'> & {
  transactions: TemplateTransaction[];
};

/** A getblocktemplate answer this miner cannot build a valid block from. */
export class TemplateError extends Error {
  override readonly name = 'TemplateError';
}

const HASH_HEX = /^[0-9a-f]{64}$/i;

function isHex(text: unknown): text is string {
  // Buffer's decoder stops at the first non-hex pair: a full-length decode means valid hex,
  // at native speed (a regular expression over a megabyte of transactions is not).
  return typeof text === 'string' && text.length % 2 === 0 && Buffer.from(text, 'hex').length * 2 === text.length;
}

/** Each transaction checked in a plain loop: fast enough for 3,000+ entries. */
function checkTransactions(list: readonly unknown[]): TemplateTransaction[] {
  for (let i = 0; i < list.length; i++) {
    const tx = list[i] as Record<string, unknown> | null;
    const where = `getblocktemplate/transactions.${i}`;
    if (typeof tx !== 'object' || tx === null) throw new TemplateError(`${where}: expected an object`);
    if (!isHex(tx.data) || tx.data.length === 0) throw new TemplateError(`${where}.data: expected hex`);
    if (typeof tx.txid !== 'string' || !HASH_HEX.test(tx.txid)) throw new TemplateError(`${where}.txid: expected 64 hex digits`);
    if (typeof tx.hash !== 'string' || !HASH_HEX.test(tx.hash)) throw new TemplateError(`${where}.hash: expected 64 hex digits`);
  }
  return list as TemplateTransaction[];
}

export function parseBlockTemplate(raw: unknown): BlockTemplate {
  const parsed = blockTemplateSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length > 0 ? issue.path.join('.') : '(root)';
    throw new TemplateError(`getblocktemplate/${where}: ${issue.message}`);
  }
  return { ...parsed.data, transactions: checkTransactions(parsed.data.transactions) };
}

// The parts of a getblocktemplate answer (BIP22, BIP23, BIP9 §getblocktemplate, BIP141/145)
// that a solo miner builds a block from, checked field by field before any work is spent.
import { z } from 'zod';

const hex = (bytes?: number) =>
  bytes === undefined
    ? z.string().regex(/^(?:[0-9a-f]{2})*$/i, 'expected hex')
    : z.string().regex(new RegExp(`^[0-9a-f]{${bytes * 2}}$`, 'i'), `expected ${bytes * 2} hex digits`);

const u32 = z.number().int().min(0).max(0xffffffff);

const templateTransaction = z.object({
  data: hex().min(2),
  txid: hex(32),
  /** wtxid (BIP145); equals txid for a transaction without witness. */
  hash: hex(32),
  fee: z.number().int().min(0).optional(),
  weight: z.number().int().min(0).optional(),
});

const blockTemplateSchema = z.object({
  version: z.number().int().min(-0x80000000).max(0xffffffff),
  rules: z.array(z.string()),
  previousblockhash: hex(32),
  transactions: z.array(templateTransaction),
  coinbasevalue: z.number().int().min(0).max(21e14),
  longpollid: z.string().optional(),
  target: hex(32),
  mintime: u32,
  curtime: u32,
  bits: hex(4),
  height: z.number().int().min(1).max(0x7fffffff),
  default_witness_commitment: hex().optional(),
  mutable: z.array(z.string()).optional(),
});

export type BlockTemplate = z.infer<typeof blockTemplateSchema>;
export type TemplateTransaction = z.infer<typeof templateTransaction>;

/** A getblocktemplate answer this miner cannot build a valid block from. */
export class TemplateError extends Error {
  override readonly name = 'TemplateError';
}

export function parseBlockTemplate(raw: unknown): BlockTemplate {
  const parsed = blockTemplateSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length > 0 ? issue.path.join('.') : '(root)';
    throw new TemplateError(`getblocktemplate/${where}: ${issue.message}`);
  }
  return parsed.data;
}

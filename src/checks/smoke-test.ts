// `mine --smoke-test`: proves this deployment end to end without mining on it. Every engine and
// back end finds the known answers; a real template is fetched; the coinbase, merkle root and
// block are built for the payout address exactly as the miner builds them and checked by the
// node itself with getblocktemplate in proposal mode (BIP23: everything but proof of work);
// the journal, report directory and metrics port work. A checklist, then exit 0 or 1.
import { randomBytes } from 'node:crypto';

import type { PayoutScript } from '../bitcoin/address.js';
import type { MineConfig } from '../config/mine-config.js';
import { createEngine } from '../engines/create-engine.js';
import { EXTRANONCE1_SIZE, EXTRANONCE2_SIZE } from '../miner/miner.js';
import { rpcClientFor, type RpcClient } from '../node/rpc-client.js';
import { templateRequest } from '../node/template-source.js';
import { assembleBlock, buildJob, jobTime, makeWorkUnit, type AssembledBlock } from '../work/job.js';
import { parseBlockTemplate, type BlockTemplate } from '../node/block-template.js';
import { Checklist } from './checklist.js';
import {
  describeMs,
  errorText,
  probeAddress,
  probeChain,
  probeJournal,
  probeKnownAnswers,
  probeMetricsPort,
  probeNode,
  probeReportDir,
  probeSync,
  probeZmq,
  signetRules,
} from './probes.js';

export interface SmokeOptions {
  readonly config: MineConfig;
  /** Where each checklist line goes as soon as it is decided. */
  readonly out: (line: string) => void;
  /** The payout address was not given at all (config.address is then a placeholder). */
  readonly addressMissing?: boolean;
}

export interface Proposal {
  readonly template: BlockTemplate;
  readonly block: AssembledBlock;
  readonly fetchMs: number;
  /** null: the node accepts the block (but for proof of work); else its reason. */
  readonly verdict: string | null;
}

/**
 * Fetches a template, builds the block the miner would build from it (nonce 0) and asks the
 * node to validate it as a BIP23 proposal. A tip that moves in between makes the answer
 * "inconclusive-not-best-prevblk": tried again with a fresh template, up to three times.
 */
export async function proposeBlock(rpc: RpcClient, config: MineConfig, payout: PayoutScript): Promise<Proposal> {
  for (let attempt = 1; ; attempt++) {
    const began = performance.now();
    const template = parseBlockTemplate(await rpc.call('getblocktemplate', templateRequest(config.network)));
    const fetchMs = performance.now() - began;
    const job = buildJob(template, {
      id: 'smoke-test',
      payoutScript: payout.script,
      coinbaseTag: config.coinbaseTag,
      extranonceSize: EXTRANONCE1_SIZE + EXTRANONCE2_SIZE,
      cleanJobs: true,
    });
    const unit = makeWorkUnit(job, randomBytes(EXTRANONCE1_SIZE + EXTRANONCE2_SIZE), jobTime(job));
    const block = assembleBlock(unit, 0);
    const verdict = await rpc.call<string | null>('getblocktemplate', { mode: 'proposal', data: block.hex, rules: signetRules(config) });
    if (verdict === 'inconclusive-not-best-prevblk' && attempt < 3) continue;
    return { template, block, fetchMs, verdict };
  }
}

function btc(sats: number): string {
  return `${(sats / 1e8).toFixed(8)} BTC`;
}

export async function runSmokeTest(options: SmokeOptions): Promise<Checklist> {
  const { config } = options;
  const list = new Checklist(options.out);

  const payout = probeAddress(list, config, options.addressMissing ?? false);
  await probeKnownAnswers(list, config, () =>
    createEngine({ kind: 'gpu', ...(config.gpuAdapter !== undefined ? { backend: String(config.gpuAdapter) } : {}) }),
  );
  const reportDirOk = await probeReportDir(list, config);
  await probeJournal(list, config, reportDirOk);
  await probeMetricsPort(list, config);

  const rpc = rpcClientFor(config);
  const contact = await probeNode(list, config, rpc, config.connectTimeout * 1000);
  if (!contact) {
    for (const label of ['chain', 'sync', 'zmq', 'template', 'block proposal']) list.skip(label, 'the node was not reached');
    return list;
  }
  const chainOk = probeChain(list, config, contact.chainInfo);
  if (chainOk) probeSync(list, config, contact);
  else list.skip('sync', 'the node is on another chain');
  if (config.zmq !== undefined) await probeZmq(list, config, rpc);
  else list.warn('zmq', 'not used (no --zmq): the miner learns of new blocks by longpoll');

  if (!chainOk) {
    list.skip('template', 'the node is on another chain');
    list.skip('block proposal', 'the node is on another chain');
    return list;
  }
  if (!payout) {
    // The template alone still says whether the node hands out work.
    try {
      const began = performance.now();
      const template = parseBlockTemplate(await rpc.call('getblocktemplate', templateRequest(config.network)));
      list.ok('template', `height ${template.height}, ${template.transactions.length} transaction(s), fetched in ${describeMs(performance.now() - began)}`);
    } catch (err) {
      list.fail('template', errorText(err));
    }
    list.skip('block proposal', 'no valid payout address to build the coinbase for');
    return list;
  }
  let proposal: Proposal;
  try {
    proposal = await proposeBlock(rpc, config, payout);
  } catch (err) {
    list.fail('template', errorText(err));
    list.skip('block proposal', 'no template');
    return list;
  }
  const { template, block, fetchMs, verdict } = proposal;
  list.ok(
    'template',
    `height ${template.height} on ${template.previousblockhash}, ${template.transactions.length} transaction(s) from the mempool, ` +
      `${btc(template.coinbasevalue)} to the coinbase, fetched in ${describeMs(fetchMs)}`,
  );
  const size = block.hex.length / 2;
  if (verdict === null) {
    list.ok(
      'block proposal',
      `the node accepts the block built for ${config.address} (coinbase, merkle root, witness commitment, header, ` +
        `${template.transactions.length + 1} transaction${template.transactions.length === 0 ? '' : 's'}, ${size} bytes): valid but for proof of work (BIP23)`,
    );
  } else {
    list.fail('block proposal', `the node rejects the block built for ${config.address}: ${verdict}`);
  }
  return list;
}

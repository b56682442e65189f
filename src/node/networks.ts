// Per-network facts as Bitcoin Core lays them out (chainparamsbase.cpp, common/args.cpp).
import { homedir } from 'node:os';
import { join } from 'node:path';

import { NETWORKS, type Network } from '../bitcoin/address.js';

export { NETWORKS, type Network };

export interface NetworkInfo {
  /** What getblockchaininfo reports as "chain". */
  readonly chain: string;
  readonly rpcPort: number;
  /** Folder below the data directory holding this network's files ("" for mainnet). */
  readonly dataSubdir: string;
  /** Whether a getblocktemplate request must name the signet rule. */
  readonly signet: boolean;
}

export const NETWORK_INFO: Readonly<Record<Network, NetworkInfo>> = {
  main: { chain: 'main', rpcPort: 8332, dataSubdir: '', signet: false },
  testnet: { chain: 'test', rpcPort: 18332, dataSubdir: 'testnet3', signet: false },
  testnet4: { chain: 'testnet4', rpcPort: 48332, dataSubdir: 'testnet4', signet: false },
  signet: { chain: 'signet', rpcPort: 38332, dataSubdir: 'signet', signet: true },
  regtest: { chain: 'regtest', rpcPort: 18443, dataSubdir: 'regtest', signet: false },
};

/** Bitcoin Core's default data directory on this platform. */
export function defaultDataDir(): string {
  if (process.platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'Bitcoin');
  if (process.platform === 'win32') return join(process.env.APPDATA ?? homedir(), 'Bitcoin');
  return join(homedir(), '.bitcoin');
}

/** Where the node writes its RPC cookie for `network` under `dataDir`. */
export function defaultCookiePath(network: Network, dataDir = defaultDataDir()): string {
  return join(dataDir, NETWORK_INFO[network].dataSubdir, '.cookie');
}

export function defaultRpcUrl(network: Network): string {
  return `http://127.0.0.1:${NETWORK_INFO[network].rpcPort}`;
}

/** The network whose getblockchaininfo "chain" is `chain`, if any. */
export function networkOfChain(chain: string): Network | undefined {
  return NETWORKS.find((n) => NETWORK_INFO[n].chain === chain);
}

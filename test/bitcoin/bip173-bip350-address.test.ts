// Payout addresses → scriptPubKey on each network: BIP173 (Bech32, witness v0), BIP350
// (Bech32m, witness v1+), Base58Check P2PKH/P2SH; driven by test/fixtures/bitcoin/addresses.json
// and cross-checked with the independent encoders in _support.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AddressError,
  addressToScript,
  bytesToHex,
  hexToBytes,
  isPayoutAddress,
  NetworkMismatchError,
  NETWORKS,
  type Network,
} from '../../src/bitcoin/index.js';
import { base58check, fixture, segwitAddress } from './_support/independent.js';

interface Valid {
  address: string;
  networks: Network[];
  type: string;
  script: string;
}
interface Fixture {
  valid: Valid[];
  notPayout: { address: string; network: Network; note: string }[];
  invalid: { address: string; network: Network; reason: string }[];
  wrongNetwork: { address: string; network: Network; error: string }[];
}
const f = fixture<Fixture>('addresses.json');

const HRP: Record<Network, string> = { main: 'bc', testnet: 'tb', testnet4: 'tb', signet: 'tb', regtest: 'bcrt' };
const P2PKH: Record<Network, number> = { main: 0x00, testnet: 0x6f, testnet4: 0x6f, signet: 0x6f, regtest: 0x6f };
const P2SH: Record<Network, number> = { main: 0x05, testnet: 0xc4, testnet4: 0xc4, signet: 0xc4, regtest: 0xc4 };

/** Re-encodes a script as an address with the independent encoders. */
function independentAddress(script: Uint8Array, type: string, network: Network): string {
  switch (type) {
    case 'p2pkh':
      return base58check(P2PKH[network], script.subarray(3, 23));
    case 'p2sh':
      return base58check(P2SH[network], script.subarray(2, 22));
    case 'p2wpkh':
    case 'p2wsh':
      return segwitAddress(HRP[network], 0, script.subarray(2));
    case 'p2tr':
      return segwitAddress(HRP[network], 1, script.subarray(2));
    default:
      throw new Error(type);
  }
}

describe('valid payout addresses', { timeout: 60_000 }, () => {
  for (const v of f.valid) {
    it(`${v.address} (${v.type}) on ${v.networks.join(', ')}`, () => {
      for (const network of v.networks) {
        const r = addressToScript(v.address, network);
        assert.equal(r.type, v.type);
        assert.equal(bytesToHex(r.script), v.script);
        // Bech32 is case-insensitive (BIP173); Base58 is not.
        const canonical = v.type === 'p2pkh' || v.type === 'p2sh' ? v.address : v.address.toLowerCase();
        assert.equal(independentAddress(hexToBytes(v.script), v.type, network), canonical);
      }
      for (const network of NETWORKS.filter((n) => !v.networks.includes(n))) {
        assert.throws(() => addressToScript(v.address, network), NetworkMismatchError, `${network} must refuse it`);
        assert.equal(isPayoutAddress(v.address, network), false);
      }
    });
  }
});

describe('valid addresses that are not payout types', { timeout: 60_000 }, () => {
  for (const v of f.notPayout) {
    it(`${v.address}: ${v.note}`, () => {
      assert.throws(
        () => addressToScript(v.address, v.network),
        (e: unknown) => e instanceof AddressError && !(e instanceof NetworkMismatchError) && /not a payout type|not defined for payouts/.test(e.message),
      );
    });
  }
});

describe('invalid addresses (BIP350 invalid vectors and others)', { timeout: 60_000 }, () => {
  for (const v of f.invalid) {
    it(`${JSON.stringify(v.address)} on ${v.network}: ${v.reason}`, () => {
      assert.throws(
        () => addressToScript(v.address, v.network),
        (e: unknown) => e instanceof AddressError && !(e instanceof NetworkMismatchError) && e.message.startsWith('address: '),
      );
      assert.equal(isPayoutAddress(v.address, v.network), false);
    });
  }
  it('rejects an unknown network name', () => {
    assert.throws(() => addressToScript('bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080', 'testnet3' as Network), {
      name: 'AddressError',
      message: 'network: expected one of main, testnet, testnet4, signet, regtest, got "testnet3"',
    });
  });
});

describe('addresses of another network', { timeout: 60_000 }, () => {
  for (const v of f.wrongNetwork) {
    it(`${v.address} on ${v.network}`, () => {
      assert.throws(() => addressToScript(v.address, v.network), (e: unknown) => {
        assert.ok(e instanceof NetworkMismatchError);
        assert.equal(e.message, v.error);
        return true;
      });
    });
  }
  it('never accepts a mainnet address on regtest or a regtest one on mainnet', () => {
    for (const v of f.valid) {
      if (v.networks.includes('main')) assert.equal(isPayoutAddress(v.address, 'regtest'), false, v.address);
      if (v.networks.includes('regtest')) assert.equal(isPayoutAddress(v.address, 'main'), false, v.address);
    }
  });
});

#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace solominer {

// The merkle branch of position 0 (the coinbase) for a block whose other transactions have
// these txids (internal byte order, 32 bytes each): the sibling hashes from the leaves up.
std::vector<uint8_t> MerkleBranch(const uint8_t* txids, size_t count);

// The merkle root of `count` 32-byte hashes (internal byte order).
void MerkleRoot(const uint8_t* hashes, size_t count, uint8_t out[32]);

// SHA-256d of any message, with the fastest plain compression this CPU runs.
void Sha256d(const uint8_t* data, size_t len, uint8_t out[32]);

// A Stratum share's block hash: the coinbase's txid folded with the merkle branch (`count`
// 32-byte hashes, internal order) into the header's merkle root (written into header[36..68]),
// then SHA-256d of the 80-byte header into `out`.
void ShareHash(const uint8_t* coinbase, size_t coinbaseLen, const uint8_t* branch, size_t count, uint8_t header[80], uint8_t out[32]);

}  // namespace solominer

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

}  // namespace solominer

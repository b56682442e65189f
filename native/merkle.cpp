// Merkle trees of transaction ids (Bitcoin's: SHA-256d of each concatenated pair, the last
// hash of an odd level paired with itself). A template of thousands of transactions needs a
// fresh branch on every new tip; node:crypto pays a JavaScript round trip per hash, this file
// does the ~2n compressions in a few milliseconds.
#include "merkle.h"

#include <cstring>

#include "sha256/dispatch.h"
#include "sha256/sha256.h"

namespace solominer {
namespace {

// SHA-256d of 64 bytes (two 32-byte hashes): three compressions, the padding blocks fixed.
void HashPair(CompressFn compress, const uint8_t left[32], const uint8_t right[32], uint8_t out[32]) {
    uint8_t block[64];
    std::memcpy(block, left, 32);
    std::memcpy(block + 32, right, 32);
    uint32_t state[8];
    std::memcpy(state, kSha256Init, sizeof state);
    compress(state, block);
    // Padding of a 64-byte message: 0x80, zeros, length 512 bits.
    uint8_t pad[64] = {0x80};
    pad[62] = 0x02;
    compress(state, pad);
    uint8_t first[64] = {0};
    for (int i = 0; i < 8; ++i) WriteBE32(first + 4 * i, state[i]);
    // Second hash of the 32-byte digest: data, 0x80, zeros, length 256 bits, in one block.
    first[32] = 0x80;
    first[62] = 0x01;
    std::memcpy(state, kSha256Init, sizeof state);
    compress(state, first);
    for (int i = 0; i < 8; ++i) WriteBE32(out + 4 * i, state[i]);
}

// Replaces level[0..n) by its parent level in place; returns the parent count.
size_t ParentLevel(std::vector<uint8_t>& level, size_t n) {
    const CompressFn compress = FastCompress();
    const size_t parents = (n + 1) / 2;
    for (size_t i = 0; i < parents; ++i) {
        const uint8_t* left = &level[64 * i];
        const uint8_t* right = 2 * i + 1 < n ? &level[64 * i + 32] : left;
        uint8_t out[32];
        HashPair(compress, left, right, out);
        std::memcpy(&level[32 * i], out, 32);
    }
    return parents;
}

}  // namespace

std::vector<uint8_t> MerkleBranch(const uint8_t* txids, size_t count) {
    // Position 0 (the coinbase) is a placeholder: only its siblings are wanted, and no
    // sibling of position 0 ever depends on it.
    std::vector<uint8_t> level(32 * (count + 1), 0);
    if (count > 0) std::memcpy(level.data() + 32, txids, 32 * count);
    std::vector<uint8_t> branch;
    size_t n = count + 1;
    while (n > 1) {
        const uint8_t* sibling = &level[32];  // n >= 2, so position 1 exists
        branch.insert(branch.end(), sibling, sibling + 32);
        n = ParentLevel(level, n);
    }
    return branch;
}

void MerkleRoot(const uint8_t* hashes, size_t count, uint8_t out[32]) {
    if (count == 0) {
        std::memset(out, 0, 32);
        return;
    }
    std::vector<uint8_t> level(hashes, hashes + 32 * count);
    size_t n = count;
    while (n > 1) n = ParentLevel(level, n);
    std::memcpy(out, level.data(), 32);
}

}  // namespace solominer

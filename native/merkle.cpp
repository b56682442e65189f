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

// The second hash of SHA-256d: SHA-256 of a 32-byte digest (the state after the first), in one
// block: data, 0x80, zeros, length 256 bits.
void SecondHash(CompressFn compress, const uint32_t first[8], uint8_t out[32]) {
    uint8_t block[64] = {0};
    for (int i = 0; i < 8; ++i) WriteBE32(block + 4 * i, first[i]);
    block[32] = 0x80;
    block[62] = 0x01;
    uint32_t state[8];
    std::memcpy(state, kSha256Init, sizeof state);
    compress(state, block);
    for (int i = 0; i < 8; ++i) WriteBE32(out + 4 * i, state[i]);
}

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
    SecondHash(compress, state, out);  // `out` may be `left`: the block was copied first
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

void Sha256d(const uint8_t* data, size_t len, uint8_t out[32]) {
    const CompressFn compress = FastCompress();
    uint32_t state[8];
    std::memcpy(state, kSha256Init, sizeof state);
    size_t done = 0;
    for (; done + 64 <= len; done += 64) compress(state, data + done);
    // FIPS 180-4 §5.1.1: the rest, 0x80, zeros, the length in bits in the last 8 bytes; one or
    // two blocks. No allocation: a coinbase is a few hundred bytes at most.
    uint8_t tail[128] = {0};
    const size_t rest = len - done;
    std::memcpy(tail, data + done, rest);
    tail[rest] = 0x80;
    const size_t blocks = rest + 9 <= 64 ? 1 : 2;
    const uint64_t bits = static_cast<uint64_t>(len) * 8;
    for (int i = 0; i < 8; ++i) tail[64 * blocks - 1 - i] = static_cast<uint8_t>(bits >> (8 * i));
    for (size_t b = 0; b < blocks; ++b) compress(state, tail + 64 * b);
    SecondHash(compress, state, out);
}

void ShareHash(const uint8_t* coinbase, size_t coinbaseLen, const uint8_t* branch, size_t count, uint8_t header[80], uint8_t out[32]) {
    const CompressFn compress = FastCompress();
    uint8_t root[32];
    Sha256d(coinbase, coinbaseLen, root);
    for (size_t i = 0; i < count; ++i) HashPair(compress, root, branch + 32 * i, root);
    std::memcpy(header + 36, root, 32);
    Sha256d(header, 80, out);
}

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

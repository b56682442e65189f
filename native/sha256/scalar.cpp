// Portable SHA-256 (FIPS 180-4), the reference every other back end is tested against.
// Written for clarity over speed: a fast path that disagrees with this file is wrong.
#include <cstring>

#include "sha256.h"

namespace solominer {

namespace {

// One compression over a block given as 16 message words.
void CompressWords(uint32_t state[8], const uint32_t block[16]) {
    uint32_t w[64];
    for (int t = 0; t < 16; ++t) w[t] = block[t];
    for (int t = 16; t < 64; ++t) {
        w[t] = SmallSigma1(w[t - 2]) + w[t - 7] + SmallSigma0(w[t - 15]) + w[t - 16];
    }
    uint32_t s[8];
    std::memcpy(s, state, sizeof s);
    ScalarRounds(s, w, 0, 64);
    for (int i = 0; i < 8; ++i) state[i] += s[i];
}

// Double hash of the header with the given nonce and version index, as eight state words of
// the second hash.
void DoubleHashWords(const HeaderWork& work, uint32_t version, uint32_t nonce, uint32_t out[8]) {
    // Second block of the header: 16 bytes of data, then the padding for an 80-byte message
    // (a 1 bit, zeros, and the length 640 bits in the last word).
    uint32_t block[16] = {work.tail[0], work.tail[1], work.tail[2], Bswap32(nonce), 0x80000000u};
    block[15] = 80 * 8;
    uint32_t first[8];
    std::memcpy(first, work.midstate[version], sizeof first);
    CompressWords(first, block);

    // The 32-byte first hash is hashed again: one block with padding for a 256-bit message.
    uint32_t second_block[16] = {first[0], first[1], first[2], first[3],
                                 first[4], first[5], first[6], first[7], 0x80000000u};
    second_block[15] = 32 * 8;
    std::memcpy(out, kSha256Init, sizeof kSha256Init);
    CompressWords(out, second_block);
}

// Every (nonce, version) on its own, two full compressions each: the reference shares nothing
// between versions, so a back end that shares the schedule wrongly disagrees with it.
uint32_t ScanScalar(const HeaderWork& work, uint32_t first, uint32_t count, uint32_t max_top_word,
                    ScanHit* hits) {
    uint32_t found = 0;
    uint32_t hash[8];
    for (uint32_t i = 0; i < count; ++i) {
        const uint32_t nonce = first + i;
        for (uint32_t v = 0; v < work.versions; ++v) {
            DoubleHashWords(work, v, nonce, hash);
            if (Bswap32(hash[7]) <= max_top_word) hits[found++] = {nonce, v};
        }
    }
    return found;
}

}  // namespace

void Sha256Compress(uint32_t state[8], const uint8_t block[64]) {
    uint32_t words[16];
    for (int t = 0; t < 16; ++t) words[t] = ReadBE32(block + 4 * t);
    CompressWords(state, words);
}

void PrepareHeader(const uint8_t header[80], const uint32_t* versions, uint32_t count,
                   HeaderWork& work) {
    uint8_t block[64];
    std::memcpy(block, header, sizeof block);
    work.versions = count;
    for (uint32_t v = 0; v < count; ++v) {
        // The version field is little-endian (bytes 0..3 of the header).
        for (int b = 0; b < 4; ++b) block[b] = uint8_t(versions[v] >> (8 * b));
        std::memcpy(work.midstate[v], kSha256Init, sizeof kSha256Init);
        Sha256Compress(work.midstate[v], block);
    }
    for (int t = 0; t < 3; ++t) work.tail[t] = ReadBE32(header + 64 + 4 * t);
}

void PrepareHeader(const uint8_t header[80], HeaderWork& work) {
    const uint32_t version = uint32_t(header[0]) | (uint32_t(header[1]) << 8) |
                             (uint32_t(header[2]) << 16) | (uint32_t(header[3]) << 24);
    PrepareHeader(header, &version, 1, work);
}

void Sha256dHeader(const uint8_t header[80], uint8_t out[32]) {
    HeaderWork work;
    PrepareHeader(header, work);
    const uint32_t nonce = uint32_t(header[76]) | (uint32_t(header[77]) << 8) |
                           (uint32_t(header[78]) << 16) | (uint32_t(header[79]) << 24);
    uint32_t hash[8];
    DoubleHashWords(work, 0, nonce, hash);
    for (int t = 0; t < 8; ++t) WriteBE32(out + 4 * t, hash[t]);
}

namespace scalar {
// versions 1: the reference gains nothing from rolling (it shares no work between versions).
const Backend kBackend = {"scalar", "scalar(1way)", 1, 1, ScanScalar};
}

}  // namespace solominer

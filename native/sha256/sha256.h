// SHA-256 for the Bitcoin block header search (FIPS 180-4).
//
// Every back end (one instruction set per file, each compiled with its own flags) implements
// one function: scan a run of nonces of one prepared header and report each nonce whose
// double SHA-256 has a final word small enough to be worth a full comparison with the target.
// The scalar back end is the reference every fast path is tested against.
#pragma once

#include <cstddef>
#include <cstdint>

namespace solominer {

// Most versions one scan hashes side by side (software AsicBoost, see HeaderWork). 16 = 2^4:
// four of the sixteen bits BIP320 leaves to miners (mask 0x1fffe000).
inline constexpr uint32_t kMaxVersions = 16;

// A header prepared once before any nonce is tried. The first 64 bytes (version, previous
// block hash, 28 bytes of merkle root) never change with the nonce, so their compression is
// done here once; the second block holds the last 4 merkle bytes, time, bits and the nonce.
//
// Version rolling (BIP320 bits; overt AsicBoost done in software): a scan may cover K header
// versions at once. Each version has its own midstate, but the second block is the same for
// all of them, so its message schedule (a function of the nonce only) is computed once per
// nonce and used K times. versions = 1 is a plain scan of one header.
struct HeaderWork {
    uint32_t tail[3];      // header bytes 64..75 as big-endian message words W0..W2
    uint32_t versions = 1; // K, 1..kMaxVersions: how many midstates below are in use
    uint32_t midstate[kMaxVersions][8];  // SHA-256 state after header bytes 0..63, per version
};

// A (version, nonce) pair worth a full comparison with the target: `version` is an index into
// the HeaderWork's versions (0..K-1), not the 32-bit version value.
struct ScanHit {
    uint32_t nonce;
    uint32_t version;
};

// Scans nonces first, first+1, ..., first+count-1, each with every version of `work`.
// Contract shared by every back end:
//  - count is a multiple of the back end's lane count, and first + count <= 2^32 (a back end
//    steps a whole vector of lanes at a time and never looks at a tail; callers with any other
//    count go through ScanExact() in dispatch.h, which hands the tail to the scalar reference);
//  - any work.versions 1..kMaxVersions is accepted (Backend::versions is only the K the back
//    end runs best at);
//  - for each nonce n and version index v, let H = SHA-256(SHA-256(header v with nonce n)) as
//    eight state words H0..H7; the most significant 32 bits of the hash read as a number
//    (display order) are bswap32(H7). Every (n, v) with bswap32(H7) <= max_top_word is
//    written to hits (in any order) and counted in the return value; hits has room for
//    count * work.versions entries;
//  - no allocation, no locks, no system calls: it runs in the hot loop of a worker thread.
// A hit is only a candidate; the caller compares the full hash with the target.
using ScanFn = uint32_t (*)(const HeaderWork& work, uint32_t first, uint32_t count,
                            uint32_t max_top_word, ScanHit* hits);

struct Backend {
    const char* name;         // stable identifier, used by --backend: "scalar", "x86_shani", ...
    const char* description;  // for the log, e.g. "x86_shani(2way)"
    uint32_t lanes;           // nonces per step; ScanFn counts are multiples of this
    // Versions per scan this back end is fastest with (chosen by measurement, see npm run
    // bench): 1 where sharing the schedule does not pay (then a work unit rolls no version).
    uint32_t versions;
    ScanFn scan;
};

// Round constants (FIPS 180-4 §4.2.2) and initial hash value (§5.3.3). constexpr, so that back
// ends fold K_t + W_t of constant message words at compile time.
inline constexpr uint32_t kSha256K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

inline constexpr uint32_t kSha256Init[8] = {
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

// Portable reference pieces, shared by the dispatcher, the self-test and the scanner.
void Sha256Compress(uint32_t state[8], const uint8_t block[64]);
// One version: the header's own (K = 1).
void PrepareHeader(const uint8_t header[80], HeaderWork& work);
// `count` versions (1..kMaxVersions), each written over the header's version field in turn.
void PrepareHeader(const uint8_t header[80], const uint32_t* versions, uint32_t count,
                   HeaderWork& work);
using CompressFn = void (*)(uint32_t state[8], const uint8_t block[64]);
// Full double SHA-256 of an 80-byte header, bytes in internal (not display) order.
void Sha256dHeader(const uint8_t header[80], uint8_t out[32]);

// Scalar SHA-256 functions (FIPS 180-4 §4.1.2) and rounds (§6.2.2 step 3), shared by the
// reference and by the per-call work of every back end. `static` on purpose: each back-end
// file is compiled with its own instruction-set flags, and an inline function with external
// linkage emitted out of line by one of them could be the copy the linker keeps for all.
static constexpr uint32_t Rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }
static constexpr uint32_t BigSigma0(uint32_t x) { return Rotr(x, 2) ^ Rotr(x, 13) ^ Rotr(x, 22); }
static constexpr uint32_t BigSigma1(uint32_t x) { return Rotr(x, 6) ^ Rotr(x, 11) ^ Rotr(x, 25); }
static constexpr uint32_t SmallSigma0(uint32_t x) { return Rotr(x, 7) ^ Rotr(x, 18) ^ (x >> 3); }
static constexpr uint32_t SmallSigma1(uint32_t x) { return Rotr(x, 17) ^ Rotr(x, 19) ^ (x >> 10); }
static constexpr uint32_t Ch(uint32_t x, uint32_t y, uint32_t z) { return (x & y) ^ (~x & z); }
static constexpr uint32_t Maj(uint32_t x, uint32_t y, uint32_t z) {
    return (x & y) ^ (x & z) ^ (y & z);
}
// Rounds from..to-1 on the working variables s = {a, b, ..., h}, W_t in w[t].
static constexpr void ScalarRounds(uint32_t s[8], const uint32_t* w, int from, int to) {
    for (int t = from; t < to; ++t) {
        const uint32_t t1 = s[7] + BigSigma1(s[4]) + Ch(s[4], s[5], s[6]) + kSha256K[t] + w[t];
        const uint32_t t2 = BigSigma0(s[0]) + Maj(s[0], s[1], s[2]);
        for (int i = 7; i > 0; --i) s[i] = s[i - 1];
        s[4] += t1;  // the old d, moved to index 4 by the shift
        s[0] = t1 + t2;
    }
}

inline uint32_t ReadBE32(const uint8_t* p) {
    return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}
inline void WriteBE32(uint8_t* p, uint32_t v) {
    p[0] = uint8_t(v >> 24);
    p[1] = uint8_t(v >> 16);
    p[2] = uint8_t(v >> 8);
    p[3] = uint8_t(v);
}
inline uint32_t Bswap32(uint32_t v) { return __builtin_bswap32(v); }

// The back ends. Each exists only where its file is compiled (see CMakeLists.txt); the
// dispatcher checks CPU features before it calls one.
namespace scalar {
extern const Backend kBackend;
}
#if defined(SOLOMINER_HAVE_X86_SHANI)
namespace x86_shani {
extern const Backend kBackend;
void Compress(uint32_t state[8], const uint8_t block[64]);
}
#endif
#if defined(SOLOMINER_HAVE_AVX2)
namespace avx2 {
extern const Backend kBackend;
}
#endif
#if defined(SOLOMINER_HAVE_AVX512)
namespace avx512 {
extern const Backend kBackend;
}
#endif
#if defined(SOLOMINER_HAVE_ARM_SHA2)
namespace arm_sha2 {
extern const Backend kBackend;
}
#endif

}  // namespace solominer

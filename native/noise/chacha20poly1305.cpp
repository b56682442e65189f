// AEAD_CHACHA20_POLY1305 (RFC 8439), portable C++17: see chacha20poly1305.h for why it is here.
// Nothing in it branches on or indexes by secret data (the Poly1305 reduction selects with a
// mask, the tag comparison ORs every byte), as a cipher must.
//
// The key stream is made four blocks at a time, one block per lane of a 4 × 32-bit vector, each
// lane with its own block counter and nonce: the blocks of several short messages (a frame's
// header, then its payload) fill the lanes together. The vectors are GCC/Clang vector extensions,
// which every target lowers to what it has (SSE2 on x86-64, NEON on arm64) — no intrinsics, no
// per-ISA flags; another compiler gets the plain one-block-at-a-time loop (the same results).
#include "chacha20poly1305.h"

#include <cstring>

namespace solominer {
namespace aead {
namespace {

inline uint32_t Load32(const uint8_t* p) {
    return uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16) | (uint32_t(p[3]) << 24);
}

inline void Store32(uint8_t* p, uint32_t v) {
    p[0] = uint8_t(v);
    p[1] = uint8_t(v >> 8);
    p[2] = uint8_t(v >> 16);
    p[3] = uint8_t(v >> 24);
}

inline void Store64(uint8_t* p, uint64_t v) {
    Store32(p, uint32_t(v));
    Store32(p + 4, uint32_t(v >> 32));
}

// "expand 32-byte k" (§2.3).
constexpr uint32_t kSigma[4] = {0x61707865, 0x3320646e, 0x79622d32, 0x6b206574};

// What differs from lane to lane: the block counter and the nonce (§2.3 state words 12-15).
struct Lane {
    uint32_t counter;
    uint32_t nonce[3];
};

#if (defined(__GNUC__) || defined(__clang__)) && !defined(SOLOMINER_AEAD_SCALAR)
typedef uint32_t Lanes __attribute__((vector_size(16)));

// Four blocks of key stream (§2.3), lane l into out[64 l .. 64 l + 64).
void Blocks4(const uint32_t key[8], const Lane lane[4], uint8_t out[256]) {
    Lanes x[16];
    for (int i = 0; i < 4; ++i) x[i] = Lanes{kSigma[i], kSigma[i], kSigma[i], kSigma[i]};
    for (int i = 0; i < 8; ++i) x[4 + i] = Lanes{key[i], key[i], key[i], key[i]};
    x[12] = Lanes{lane[0].counter, lane[1].counter, lane[2].counter, lane[3].counter};
    for (int i = 0; i < 3; ++i) x[13 + i] = Lanes{lane[0].nonce[i], lane[1].nonce[i], lane[2].nonce[i], lane[3].nonce[i]};
    Lanes s[16];
    for (int i = 0; i < 16; ++i) s[i] = x[i];
#define SOLOMINER_ROTV(v, n) (((v) << (n)) | ((v) >> (32 - (n))))
#define SOLOMINER_QRV(a, b, c, d)            \
    x[a] += x[b];                            \
    x[d] = SOLOMINER_ROTV(x[d] ^ x[a], 16);  \
    x[c] += x[d];                            \
    x[b] = SOLOMINER_ROTV(x[b] ^ x[c], 12);  \
    x[a] += x[b];                            \
    x[d] = SOLOMINER_ROTV(x[d] ^ x[a], 8);   \
    x[c] += x[d];                            \
    x[b] = SOLOMINER_ROTV(x[b] ^ x[c], 7)
    for (int i = 0; i < 10; ++i) {
        SOLOMINER_QRV(0, 4, 8, 12);
        SOLOMINER_QRV(1, 5, 9, 13);
        SOLOMINER_QRV(2, 6, 10, 14);
        SOLOMINER_QRV(3, 7, 11, 15);
        SOLOMINER_QRV(0, 5, 10, 15);
        SOLOMINER_QRV(1, 6, 11, 12);
        SOLOMINER_QRV(2, 7, 8, 13);
        SOLOMINER_QRV(3, 4, 9, 14);
    }
#undef SOLOMINER_QRV
#undef SOLOMINER_ROTV
    for (int i = 0; i < 16; ++i) {
        const Lanes w = x[i] + s[i];
        for (int l = 0; l < 4; ++l) Store32(out + 64 * l + 4 * i, w[l]);
    }
}
#else
inline uint32_t Rotl(uint32_t v, int n) { return (v << n) | (v >> (32 - n)); }

// §2.1 the quarter round.
#define SOLOMINER_QR(a, b, c, d) \
    a += b;                      \
    d = Rotl(d ^ a, 16);         \
    c += d;                      \
    b = Rotl(b ^ c, 12);         \
    a += b;                      \
    d = Rotl(d ^ a, 8);          \
    c += d;                      \
    b = Rotl(b ^ c, 7)

// §2.3 the block function: 16 words of key stream for `state` (constants, key, counter, nonce).
void Block(const uint32_t state[16], uint32_t out[16]) {
    uint32_t x0 = state[0], x1 = state[1], x2 = state[2], x3 = state[3], x4 = state[4], x5 = state[5], x6 = state[6],
             x7 = state[7], x8 = state[8], x9 = state[9], x10 = state[10], x11 = state[11], x12 = state[12], x13 = state[13],
             x14 = state[14], x15 = state[15];
    for (int i = 0; i < 10; ++i) {
        // A column round, then a diagonal round (§2.3).
        SOLOMINER_QR(x0, x4, x8, x12);
        SOLOMINER_QR(x1, x5, x9, x13);
        SOLOMINER_QR(x2, x6, x10, x14);
        SOLOMINER_QR(x3, x7, x11, x15);
        SOLOMINER_QR(x0, x5, x10, x15);
        SOLOMINER_QR(x1, x6, x11, x12);
        SOLOMINER_QR(x2, x7, x8, x13);
        SOLOMINER_QR(x3, x4, x9, x14);
    }
    out[0] = x0 + state[0];
    out[1] = x1 + state[1];
    out[2] = x2 + state[2];
    out[3] = x3 + state[3];
    out[4] = x4 + state[4];
    out[5] = x5 + state[5];
    out[6] = x6 + state[6];
    out[7] = x7 + state[7];
    out[8] = x8 + state[8];
    out[9] = x9 + state[9];
    out[10] = x10 + state[10];
    out[11] = x11 + state[11];
    out[12] = x12 + state[12];
    out[13] = x13 + state[13];
    out[14] = x14 + state[14];
    out[15] = x15 + state[15];
}

#undef SOLOMINER_QR

void Blocks4(const uint32_t key[8], const Lane lane[4], uint8_t out[256]) {
    uint32_t state[16];
    uint32_t block[16];
    for (int i = 0; i < 4; ++i) state[i] = kSigma[i];
    for (int i = 0; i < 8; ++i) state[4 + i] = key[i];
    for (int l = 0; l < 4; ++l) {
        state[12] = lane[l].counter;
        for (int i = 0; i < 3; ++i) state[13 + i] = lane[l].nonce[i];
        Block(state, block);
        for (int i = 0; i < 16; ++i) Store32(out + 64 * l + 4 * i, block[i]);
    }
}
#endif

void KeyWords(const uint8_t key[kKeySize], uint32_t words[8]) {
    for (int i = 0; i < 8; ++i) words[i] = Load32(key + 4 * i);
}

void NoiseNonce(uint64_t counter, uint32_t nonce[3]) {
    nonce[0] = 0;
    nonce[1] = uint32_t(counter);
    nonce[2] = uint32_t(counter >> 32);
}

#if defined(__SIZEOF_INT128__) && !defined(SOLOMINER_AEAD_SCALAR)
inline uint64_t Load64(const uint8_t* p) { return uint64_t(Load32(p)) | (uint64_t(Load32(p + 4)) << 32); }

// Poly1305 over 2^130 - 5 in three limbs of 44, 44 and 42 bits with 128-bit products (every
// 64-bit GCC/Clang target: x86-64, arm64); 2^132 ≡ 20, so a product past the top folds back
// multiplied by 20 (§2.5).
class Poly {
public:
    explicit Poly(const uint8_t key[32]) {
        // r clamped (§2.5.1: r &= 0x0ffffffc0ffffffc0ffffffc0fffffff), then split into limbs.
        const uint64_t t0 = Load64(key) & 0x0ffffffc0fffffffULL;
        const uint64_t t1 = Load64(key + 8) & 0x0ffffffc0ffffffcULL;
        r_[0] = t0 & kMask44;
        r_[1] = ((t0 >> 44) | (t1 << 20)) & kMask44;
        r_[2] = t1 >> 24;
        s_lo_ = Load64(key + 16);
        s_hi_ = Load64(key + 24);
    }

    // Whole 16-byte blocks, each with the 2^128 bit set (§2.5.1); `hibit` 0 for a short last
    // block that carries its own 0x01 after its bytes.
    void Blocks(const uint8_t* m, size_t blocks, uint64_t hibit = uint64_t(1) << 40) {
        typedef unsigned __int128 U128;
        const uint64_t r0 = r_[0], r1 = r_[1], r2 = r_[2];
        const uint64_t s1 = r1 * 20, s2 = r2 * 20;
        uint64_t h0 = h_[0], h1 = h_[1], h2 = h_[2];
        for (; blocks > 0; --blocks, m += 16) {
            const uint64_t m0 = Load64(m), m1 = Load64(m + 8);
            h0 += m0 & kMask44;
            h1 += ((m0 >> 44) | (m1 << 20)) & kMask44;
            h2 += (m1 >> 24) | hibit;
            const U128 d0 = U128(h0) * r0 + U128(h1) * s2 + U128(h2) * s1;
            U128 d1 = U128(h0) * r1 + U128(h1) * r0 + U128(h2) * s2;
            U128 d2 = U128(h0) * r2 + U128(h1) * r1 + U128(h2) * r0;
            // Partial reduction: limbs back to 44/44/42 bits (h1 a little over, harmless).
            h0 = uint64_t(d0) & kMask44;
            d1 += uint64_t(d0 >> 44);
            h1 = uint64_t(d1) & kMask44;
            d2 += uint64_t(d1 >> 44);
            h2 = uint64_t(d2) & kMask42;
            h0 += uint64_t(d2 >> 42) * 5;
            h1 += h0 >> 44;
            h0 &= kMask44;
        }
        h_[0] = h0;
        h_[1] = h1;
        h_[2] = h2;
    }

    void Finish(uint8_t tag[16]) {
        typedef unsigned __int128 U128;
        uint64_t h0 = h_[0], h1 = h_[1], h2 = h_[2];
        // Full carry, twice round (the fold of the top can carry once more).
        for (int round = 0; round < 2; ++round) {
            h2 += h1 >> 44;
            h1 &= kMask44;
            h0 += (h2 >> 42) * 5;
            h2 &= kMask42;
            h1 += h0 >> 44;
            h0 &= kMask44;
        }
        // g = h + 5 - 2^130: when it does not go below zero, h >= p and g is h mod p.
        uint64_t g0 = h0 + 5;
        uint64_t g1 = h1 + (g0 >> 44);
        g0 &= kMask44;
        const uint64_t g2 = h2 + (g1 >> 44) - (uint64_t(1) << 42);
        g1 &= kMask44;
        const uint64_t use_g = (g2 >> 63) - 1;  // all ones when g2 did not borrow
        h0 = (h0 & ~use_g) | (g0 & use_g);
        h1 = (h1 & ~use_g) | (g1 & use_g);
        h2 = (h2 & ~use_g) | (g2 & use_g & kMask42);
        // h + s mod 2^128 (§2.5.1: the bits above 128 are dropped; the 128-bit sums wrap there).
        const U128 sum = U128(h0) + (U128(h1) << 44) + (U128(h2) << 88) + ((U128(s_hi_) << 64) | s_lo_);
        Store64(tag, uint64_t(sum));
        Store64(tag + 8, uint64_t(sum >> 64));
    }

private:
    static constexpr uint64_t kMask44 = (uint64_t(1) << 44) - 1;
    static constexpr uint64_t kMask42 = (uint64_t(1) << 42) - 1;
    uint64_t r_[3];
    uint64_t h_[3] = {0, 0, 0};
    uint64_t s_lo_;
    uint64_t s_hi_;
};
#else
// Poly1305 over 2^130 - 5 in five 26-bit limbs, so every product fits a 64-bit integer on any
// target (§2.5; 2^130 ≡ 5 lets a limb product past the top fold back multiplied by 5).
class Poly {
public:
    explicit Poly(const uint8_t key[32]) {
        // r clamped (§2.5.1: r &= 0x0ffffffc0ffffffc0ffffffc0fffffff), then split into limbs.
        const uint32_t t0 = Load32(key) & 0x0fffffff;
        const uint32_t t1 = Load32(key + 4) & 0x0ffffffc;
        const uint32_t t2 = Load32(key + 8) & 0x0ffffffc;
        const uint32_t t3 = Load32(key + 12) & 0x0ffffffc;
        r_[0] = t0 & kMask;
        r_[1] = ((t0 >> 26) | (t1 << 6)) & kMask;
        r_[2] = ((t1 >> 20) | (t2 << 12)) & kMask;
        r_[3] = ((t2 >> 14) | (t3 << 18)) & kMask;
        r_[4] = t3 >> 8;
        for (int i = 0; i < 4; ++i) s_[i] = Load32(key + 16 + 4 * i);
    }

    // Whole 16-byte blocks, each with the 2^128 bit set (§2.5.1); `hibit` 0 for a short last
    // block that carries its own 0x01 after its bytes.
    void Blocks(const uint8_t* m, size_t blocks, uint32_t hibit = uint32_t(1) << 24) {
        const uint64_t r0 = r_[0], r1 = r_[1], r2 = r_[2], r3 = r_[3], r4 = r_[4];
        const uint64_t s1 = r1 * 5, s2 = r2 * 5, s3 = r3 * 5, s4 = r4 * 5;
        uint64_t h0 = h_[0], h1 = h_[1], h2 = h_[2], h3 = h_[3], h4 = h_[4];
        for (; blocks > 0; --blocks, m += 16) {
            const uint32_t m0 = Load32(m), m1 = Load32(m + 4), m2 = Load32(m + 8), m3 = Load32(m + 12);
            h0 += m0 & kMask;
            h1 += ((m0 >> 26) | (m1 << 6)) & kMask;
            h2 += ((m1 >> 20) | (m2 << 12)) & kMask;
            h3 += ((m2 >> 14) | (m3 << 18)) & kMask;
            h4 += (m3 >> 8) | hibit;
            const uint64_t d0 = h0 * r0 + h1 * s4 + h2 * s3 + h3 * s2 + h4 * s1;
            uint64_t d1 = h0 * r1 + h1 * r0 + h2 * s4 + h3 * s3 + h4 * s2;
            uint64_t d2 = h0 * r2 + h1 * r1 + h2 * r0 + h3 * s4 + h4 * s3;
            uint64_t d3 = h0 * r3 + h1 * r2 + h2 * r1 + h3 * r0 + h4 * s4;
            uint64_t d4 = h0 * r4 + h1 * r3 + h2 * r2 + h3 * r1 + h4 * r0;
            // Partial reduction: every limb back under 2^26 (h0 a little over, harmless).
            h0 = d0 & kMask;
            d1 += d0 >> 26;
            h1 = d1 & kMask;
            d2 += d1 >> 26;
            h2 = d2 & kMask;
            d3 += d2 >> 26;
            h3 = d3 & kMask;
            d4 += d3 >> 26;
            h4 = d4 & kMask;
            h0 += (d4 >> 26) * 5;
            h1 += h0 >> 26;
            h0 &= kMask;
        }
        h_[0] = h0;
        h_[1] = h1;
        h_[2] = h2;
        h_[3] = h3;
        h_[4] = h4;
    }

    void Finish(uint8_t tag[16]) {
        uint64_t h0 = h_[0], h1 = h_[1], h2 = h_[2], h3 = h_[3], h4 = h_[4];
        // Full carry.
        h2 += h1 >> 26;
        h1 &= kMask;
        h3 += h2 >> 26;
        h2 &= kMask;
        h4 += h3 >> 26;
        h3 &= kMask;
        h0 += (h4 >> 26) * 5;
        h4 &= kMask;
        h1 += h0 >> 26;
        h0 &= kMask;
        // g = h + 5 - 2^130: when it does not go below zero, h >= p and g is h mod p.
        uint64_t g0 = h0 + 5;
        uint64_t g1 = h1 + (g0 >> 26);
        g0 &= kMask;
        uint64_t g2 = h2 + (g1 >> 26);
        g1 &= kMask;
        uint64_t g3 = h3 + (g2 >> 26);
        g2 &= kMask;
        uint64_t g4 = h4 + (g3 >> 26) - (uint64_t(1) << 26);
        g3 &= kMask;
        const uint64_t use_g = (g4 >> 63) - 1;  // all ones when g4 did not borrow
        h0 = (h0 & ~use_g) | (g0 & use_g);
        h1 = (h1 & ~use_g) | (g1 & use_g);
        h2 = (h2 & ~use_g) | (g2 & use_g);
        h3 = (h3 & ~use_g) | (g3 & use_g);
        h4 = (h4 & ~use_g) | (g4 & use_g & kMask);
        // h + s mod 2^128 (§2.5.1: the bits above 128 are dropped), summed limb by limb so that a
        // limb at exactly 2^26 still carries.
        uint64_t acc = h0 + (h1 << 26);
        uint64_t f = uint64_t(uint32_t(acc)) + s_[0];
        Store32(tag, uint32_t(f));
        acc = (acc >> 32) + (h2 << 20);
        f = uint64_t(uint32_t(acc)) + s_[1] + (f >> 32);
        Store32(tag + 4, uint32_t(f));
        acc = (acc >> 32) + (h3 << 14);
        f = uint64_t(uint32_t(acc)) + s_[2] + (f >> 32);
        Store32(tag + 8, uint32_t(f));
        acc = (acc >> 32) + (h4 << 8);
        f = uint64_t(uint32_t(acc)) + s_[3] + (f >> 32);
        Store32(tag + 12, uint32_t(f));
    }

private:
    static constexpr uint64_t kMask = 0x3ffffff;
    uint64_t r_[5];
    uint64_t h_[5] = {0, 0, 0, 0, 0};
    uint32_t s_[4];
};
#endif

// `len` bytes into a Poly1305 state, the last block zero-padded to 16 (AEAD's pad16, §2.8).
void Padded(Poly& poly, const uint8_t* m, size_t len) {
    poly.Blocks(m, len / 16);
    const size_t rest = len % 16;
    if (rest > 0) {
        uint8_t block[16] = {0};
        std::memcpy(block, m + len - rest, rest);
        poly.Blocks(block, 1);
    }
}

// One message of an AEAD run: where its bytes come from and go, its nonce, and where the tag
// is computed over (the ciphertext: `out` when sealing, `in` when opening) and written.
struct Piece {
    const uint8_t* in;
    uint8_t* out;
    size_t len;
    uint32_t nonce[3];
    const uint8_t* ciphertext;
    uint8_t* tag;
};

inline uint32_t DataBlocks(size_t len) { return uint32_t((len + 63) / 64); }

// §2.8: the tag over AD ‖ pad16 ‖ ciphertext ‖ pad16 ‖ le64(AD length) ‖ le64(ciphertext length)
// under the one-time key (the first 32 bytes of block 0).
void FinishTag(const Piece& piece, const uint8_t one_time_key[32], const uint8_t* ad, size_t ad_len) {
    Poly poly(one_time_key);
    Padded(poly, ad, ad_len);
    Padded(poly, piece.ciphertext, piece.len);
    uint8_t lengths[16];
    Store64(lengths, ad_len);
    Store64(lengths + 8, piece.len);
    poly.Blocks(lengths, 1);
    poly.Finish(piece.tag);
}

// The AEAD over `count` pieces (get(i, &piece) describes piece i): every block a piece needs —
// block 0 for its Poly1305 key, then one per 64 bytes from block 1 — four lanes at a time across
// piece boundaries; each piece's tag once its last block is done.
template <typename Get>
void AeadRun(const uint8_t key[kKeySize], size_t count, const uint8_t* ad, size_t ad_len, Get get) {
    if (count == 0) return;
    uint32_t key_words[8];
    KeyWords(key, key_words);
    Lane lanes[4];
    Piece lane_piece[4];
    uint32_t lane_block[4];
    uint8_t stream[256];
    uint8_t one_time_key[32];
    Piece current{};
    bool started = false;
    size_t p = 0;
    uint32_t b = 0;
    Piece next;
    get(0, &next);
    while (p < count) {
        int n = 0;
        while (n < 4 && p < count) {
            lane_piece[n] = next;
            lane_block[n] = b;
            lanes[n].counter = b;
            for (int i = 0; i < 3; ++i) lanes[n].nonce[i] = next.nonce[i];
            ++n;
            if (++b > DataBlocks(next.len)) {
                b = 0;
                if (++p < count) get(p, &next);
            }
        }
        for (int l = n; l < 4; ++l) lanes[l] = lanes[n - 1];  // spare lanes: computed, unused
        Blocks4(key_words, lanes, stream);
        for (int l = 0; l < n; ++l) {
            const uint8_t* ks = stream + 64 * l;
            if (lane_block[l] == 0) {
                if (started) FinishTag(current, one_time_key, ad, ad_len);
                current = lane_piece[l];
                started = true;
                std::memcpy(one_time_key, ks, 32);
                continue;
            }
            const size_t at = size_t(lane_block[l] - 1) * 64;
            const size_t len = current.len - at < 64 ? current.len - at : 64;
            for (size_t i = 0; i < len; ++i) current.out[at + i] = uint8_t(current.in[at + i] ^ ks[i]);
        }
    }
    FinishTag(current, one_time_key, ad, ad_len);
    std::memset(stream, 0, sizeof stream);
    std::memset(one_time_key, 0, sizeof one_time_key);
}

}  // namespace

void ChaCha20Xor(const uint8_t key[kKeySize], uint32_t counter, const uint8_t nonce[kNonceSize], const uint8_t* in, size_t len,
                 uint8_t* out) {
    uint32_t key_words[8];
    KeyWords(key, key_words);
    Lane lanes[4];
    for (int l = 0; l < 4; ++l) {
        for (int i = 0; i < 3; ++i) lanes[l].nonce[i] = Load32(nonce + 4 * i);
    }
    uint8_t stream[256];
    while (len > 0) {
        for (int l = 0; l < 4; ++l) lanes[l].counter = counter + uint32_t(l);
        Blocks4(key_words, lanes, stream);
        counter += 4;
        const size_t n = len < 256 ? len : 256;
        for (size_t i = 0; i < n; ++i) out[i] = uint8_t(in[i] ^ stream[i]);
        in += n;
        out += n;
        len -= n;
    }
    std::memset(stream, 0, sizeof stream);
}

void Poly1305(const uint8_t key[32], const uint8_t* msg, size_t len, uint8_t tag[16]) {
    Poly poly(key);
    poly.Blocks(msg, len / 16);
    const size_t rest = len % 16;
    if (rest > 0) {
        // §2.5.1: a short last block gets its 0x01 right after its bytes, not at 2^128.
        uint8_t block[16] = {0};
        std::memcpy(block, msg + len - rest, rest);
        block[rest] = 1;
        poly.Blocks(block, 1, 0);
    }
    poly.Finish(tag);
}

void SealPieces(const uint8_t key[kKeySize], uint64_t counter, const uint8_t* ad, size_t ad_len, const uint8_t* input,
                const uint32_t* ends, size_t pieces, uint8_t* out) {
    // Piece i starts after i earlier pieces and their tags; found by walking, as pieces come in order.
    size_t from = 0;
    size_t to = 0;
    size_t walked = 0;
    AeadRun(key, pieces, ad, ad_len, [&](size_t i, Piece* piece) {
        for (; walked < i; ++walked) {
            to += ends[walked] - from + kTagSize;
            from = ends[walked];
        }
        piece->in = input + from;
        piece->out = out + to;
        piece->len = ends[i] - from;
        NoiseNonce(counter + i, piece->nonce);
        piece->ciphertext = piece->out;
        piece->tag = piece->out + piece->len;
    });
}

bool OpenNoise(const uint8_t key[kKeySize], uint64_t counter, const uint8_t* ad, size_t ad_len, const uint8_t* ciphertext,
               size_t len, const uint8_t tag[kTagSize], uint8_t* out) {
    uint8_t expected[kTagSize];
    AeadRun(key, 1, ad, ad_len, [&](size_t, Piece* piece) {
        piece->in = ciphertext;
        piece->out = out;
        piece->len = len;
        NoiseNonce(counter, piece->nonce);
        piece->ciphertext = ciphertext;
        piece->tag = expected;
    });
    uint8_t diff = 0;
    for (size_t i = 0; i < kTagSize; ++i) diff |= uint8_t(expected[i] ^ tag[i]);
    if (diff == 0) return true;
    std::memset(out, 0, len);
    return false;
}

}  // namespace aead
}  // namespace solominer

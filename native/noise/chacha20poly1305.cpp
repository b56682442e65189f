// AEAD_CHACHA20_POLY1305 (RFC 8439), portable C++17: see chacha20poly1305.h for why it is here.
// Nothing in it branches on or indexes by secret data (the Poly1305 reduction selects with a
// mask, the tag comparison ORs every byte), as a cipher must.
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

void InitState(const uint8_t key[kKeySize], uint32_t counter, const uint8_t nonce[kNonceSize], uint32_t state[16]) {
    // "expand 32-byte k" (§2.3).
    state[0] = 0x61707865;
    state[1] = 0x3320646e;
    state[2] = 0x79622d32;
    state[3] = 0x6b206574;
    for (int i = 0; i < 8; ++i) state[4 + i] = Load32(key + 4 * i);
    state[12] = counter;
    for (int i = 0; i < 3; ++i) state[13 + i] = Load32(nonce + 4 * i);
}

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

    // `len` bytes, the last block zero-padded to 16 (AEAD's pad16, §2.8).
    void Padded(const uint8_t* m, size_t len) {
        Blocks(m, len / 16);
        const size_t rest = len % 16;
        if (rest > 0) {
            uint8_t block[16] = {0};
            std::memcpy(block, m + len - rest, rest);
            Blocks(block, 1);
        }
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

// §2.8: the Poly1305 key is the first 32 bytes of block 0; the tag covers
// AD ‖ pad16 ‖ ciphertext ‖ pad16 ‖ le64(AD length) ‖ le64(ciphertext length).
void Tag(const uint8_t key[kKeySize], const uint8_t nonce[kNonceSize], const uint8_t* ad, size_t ad_len, const uint8_t* ciphertext,
         size_t len, uint8_t tag[kTagSize]) {
    uint32_t state[16];
    uint32_t block[16];
    InitState(key, 0, nonce, state);
    Block(state, block);
    uint8_t one_time_key[32];
    for (int i = 0; i < 8; ++i) Store32(one_time_key + 4 * i, block[i]);
    Poly poly(one_time_key);
    poly.Padded(ad, ad_len);
    poly.Padded(ciphertext, len);
    uint8_t lengths[16];
    Store64(lengths, ad_len);
    Store64(lengths + 8, len);
    poly.Blocks(lengths, 1);
    poly.Finish(tag);
    std::memset(one_time_key, 0, sizeof one_time_key);
}

}  // namespace

void ChaCha20Xor(const uint8_t key[kKeySize], uint32_t counter, const uint8_t nonce[kNonceSize], const uint8_t* in, size_t len,
                 uint8_t* out) {
    uint32_t state[16];
    uint32_t block[16];
    uint8_t stream[64];
    InitState(key, counter, nonce, state);
    while (len > 0) {
        Block(state, block);
        ++state[12];
        const size_t n = len < 64 ? len : 64;
        for (int i = 0; i < 16; ++i) Store32(stream + 4 * i, block[i]);
        for (size_t i = 0; i < n; ++i) out[i] = in[i] ^ stream[i];
        in += n;
        out += n;
        len -= n;
    }
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

void Seal(const uint8_t key[kKeySize], const uint8_t nonce[kNonceSize], const uint8_t* ad, size_t ad_len, const uint8_t* plaintext,
          size_t len, uint8_t* out) {
    ChaCha20Xor(key, 1, nonce, plaintext, len, out);
    Tag(key, nonce, ad, ad_len, out, len, out + len);
}

bool Open(const uint8_t key[kKeySize], const uint8_t nonce[kNonceSize], const uint8_t* ad, size_t ad_len, const uint8_t* ciphertext,
          size_t len, const uint8_t tag[kTagSize], uint8_t* out) {
    uint8_t expected[kTagSize];
    Tag(key, nonce, ad, ad_len, ciphertext, len, expected);
    uint8_t diff = 0;
    for (size_t i = 0; i < kTagSize; ++i) diff |= uint8_t(expected[i] ^ tag[i]);
    if (diff != 0) return false;
    ChaCha20Xor(key, 1, nonce, ciphertext, len, out);
    return true;
}

void NoiseNonce(uint64_t counter, uint8_t nonce[kNonceSize]) {
    Store32(nonce, 0);
    Store64(nonce + 4, counter);
}

}  // namespace aead
}  // namespace solominer

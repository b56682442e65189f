// 8-way AVX2 back end: eight nonces hashed side by side, one per 32-bit lane of a ymm
// register, word t of lane i holding message/state word t for nonce first + 8k + i.
//
// Compiled with -mavx2 only (see CMakeLists.txt); the dispatcher checks CPUID before calling
// kBackend.scan. AVX2 has no vector rotate, no 3-input logic and no unsigned compare, so:
// ROTR is two shifts whose results are XORed straight into the Σ/σ sums (§4.1.2: every
// rotation in SHA-256 ends up in an XOR, so OR is never needed), Ch is g ⊕ (e ∧ (f ⊕ g)),
// Maj is b ⊕ ((a ⊕ b) ∧ (b ⊕ c)) where b ⊕ c is the previous round's a ⊕ b (the compiler
// reuses it, so Maj costs two new operations plus that XOR), and x <= m is max(x, m) == m.
//
// Everything not depending on the nonce is moved out of the loop; what is left follows
// FIPS 180-4 §6.2.2 (SHA-256 hash computation) with these shortcuts, each exact:
//  - the first 64 header bytes are in the midstate (HeaderWork), so per nonce hash 1 is one
//    compression of the second block; its rounds 0..2 only see W0..W2 (merkle tail, time,
//    bits), so they run once per call as scalars, and so does every part of round 3 except
//    the "+ W3" (W3 is the nonce word);
//  - hash 1's block 2 words W4..W15 are padding constants (§5.1.1: 0x80000000, zeros, the
//    length 640), so K_t + W_t is a constant there, and W16, W17 and the nonce-independent
//    sums inside W18..W32 (§6.2.2 step 1) are per-call constants;
//  - hash 2 hashes the 32-byte digest: W8..W15 are 0x80000000, zeros and 256; its round 0
//    only adds W0 to constants derived from the initial value H(0) (§5.3.3);
//  - of hash 2 only H7 is needed (the caller's test is on bswap32(H7)); H7 = H(0)_7 + h
//    after round 63 = H(0)_7 + e produced by round 60, so rounds 61..63 are skipped, and so
//    is the a-half of rounds 57..60 (those a values only ever reach rounds >= 61).
#if defined(SOLOMINER_HAVE_AVX2)

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <utility>

#include "sha256.h"

namespace solominer {
namespace avx2 {
namespace {

#define SOLOMINER_INLINE inline __attribute__((always_inline))

using V = __m256i;
constexpr uint32_t kLanes = 8;

// ---- Scalar helpers, usable at compile time (FIPS 180-4 §4.1.2, §4.2.2, §5.3.3). ----
// Short names for the shared constexpr constants (sha256.h), so K_t + W_t folds at compile time.
constexpr const uint32_t (&kK)[64] = kSha256K;
constexpr const uint32_t (&kIV)[8] = kSha256Init;

constexpr uint32_t Rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }
constexpr uint32_t BigS0s(uint32_t x) { return Rotr(x, 2) ^ Rotr(x, 13) ^ Rotr(x, 22); }
constexpr uint32_t BigS1s(uint32_t x) { return Rotr(x, 6) ^ Rotr(x, 11) ^ Rotr(x, 25); }
constexpr uint32_t SmallS0s(uint32_t x) { return Rotr(x, 7) ^ Rotr(x, 18) ^ (x >> 3); }
constexpr uint32_t SmallS1s(uint32_t x) { return Rotr(x, 17) ^ Rotr(x, 19) ^ (x >> 10); }
constexpr uint32_t Chs(uint32_t x, uint32_t y, uint32_t z) { return (x & y) ^ (~x & z); }
constexpr uint32_t Majs(uint32_t x, uint32_t y, uint32_t z) { return (x & y) ^ (x & z) ^ (y & z); }

// Padding words of hash 1's second block (80-byte message, §5.1.1) and of hash 2's block
// (32-byte message). Index t < 16; W0..W3 / W0..W7 are data, not used from here.
constexpr uint32_t Pad1(int t) { return t == 4 ? 0x80000000u : t == 15 ? 640u : 0u; }
constexpr uint32_t Pad2(int t) { return t == 8 ? 0x80000000u : t == 15 ? 256u : 0u; }

// Hash 2 round 0 works on H(0) only, plus W0: T1 = C0 + W0, T2 = S0(a) + Maj(a,b,c).
constexpr uint32_t kH2C0 =
    kIV[7] + BigS1s(kIV[4]) + Chs(kIV[4], kIV[5], kIV[6]) + kK[0];
constexpr uint32_t kH2T20 = BigS0s(kIV[0]) + Majs(kIV[0], kIV[1], kIV[2]);

// Every loop constant, gathered in one table that the loop reads through a pointer the
// compiler cannot see through (see ScanAvx2). Left to itself GCC 12 materialises each
// uniform vector constant as "mov $imm, %eax; vpbroadcastd %eax, %ymm", and that broadcast
// takes a slot on port 5, one of the vector ALU ports this loop saturates; a broadcast
// from memory (vpbroadcastd m32 or a memory operand) is a plain load instead.
struct Consts {
    uint32_t k[64];     // K_t
    uint32_t kw1[16];   // hash 1: K_t + W_t for the padding words W4..W15
    uint32_t kw2[16];   // hash 2: K_t + W_t for W8..W15; for t = 1..3, K_t + H(0)_{7-t}
    uint32_t pad1_4;    // hash 1 W4 = 0x80000000
    uint32_t pad1_15;   // hash 1 W15 = 640
    uint32_t s0_pad1_15;  // σ0(640) (+ W14 = 0)
    uint32_t pad2_8;    // hash 2 W8 = 0x80000000
    uint32_t pad2_15;   // hash 2 W15 = 256
    uint32_t s0_pad2_8;   // σ0(0x80000000)
    uint32_t s1_pad2_15;  // σ1(256)
    uint32_t s0_pad2_15;  // σ0(256)
    uint32_t h2_a1;     // hash 2 a after round 0, minus W0
    uint32_t h2_e1;     // hash 2 e after round 0, minus W0
    uint32_t iv[8];     // H(0)
    uint8_t bswap_shuffle[32];  // vpshufb control reversing the bytes of each word
    uint32_t lanes;
};
constexpr Consts MakeConsts() {
    Consts c{};
    for (int t = 0; t < 64; ++t) c.k[t] = kK[t];
    for (int t = 4; t < 16; ++t) c.kw1[t] = kK[t] + Pad1(t);
    for (int t = 8; t < 16; ++t) c.kw2[t] = kK[t] + Pad2(t);
    for (int t = 1; t < 4; ++t) c.kw2[t] = kK[t] + kIV[7 - t];
    c.pad1_4 = Pad1(4);
    c.pad1_15 = Pad1(15);
    c.s0_pad1_15 = SmallS0s(Pad1(15)) + Pad1(14);
    c.pad2_8 = Pad2(8);
    c.pad2_15 = Pad2(15);
    c.s0_pad2_8 = SmallS0s(Pad2(8));
    c.s1_pad2_15 = SmallS1s(Pad2(15));
    c.s0_pad2_15 = SmallS0s(Pad2(15));
    c.h2_a1 = kH2C0 + kH2T20;
    c.h2_e1 = kIV[3] + kH2C0;
    for (int i = 0; i < 8; ++i) c.iv[i] = kIV[i];
    for (int i = 0; i < 32; ++i) c.bswap_shuffle[i] = uint8_t((i & ~3) + 3 - (i & 3));
    c.lanes = kLanes;
    return c;
}
alignas(64) constexpr Consts kConsts = MakeConsts();

// ---- Vector primitives. ----
SOLOMINER_INLINE V Set(uint32_t x) { return _mm256_set1_epi32(int(x)); }
SOLOMINER_INLINE V Add(V a, V b) { return _mm256_add_epi32(a, b); }
SOLOMINER_INLINE V Xor(V a, V b) { return _mm256_xor_si256(a, b); }
SOLOMINER_INLINE V And(V a, V b) { return _mm256_and_si256(a, b); }
SOLOMINER_INLINE V Shr(V x, int n) { return _mm256_srli_epi32(x, n); }
SOLOMINER_INLINE V Shl(V x, int n) { return _mm256_slli_epi32(x, n); }
// Σ0, Σ1, σ0, σ1 (§4.1.2 (4.4)-(4.7)) with ROTR^n(x) = (x >> n) ⊕ (x << 32-n): the two
// halves never overlap, so they join the XOR sum directly (6 shifts + 5 XORs for Σ,
// 5 + 4 for σ). Pairs are XORed first so the sum is a tree of depth 3, not a chain.
SOLOMINER_INLINE V BigS0(V x) {
    return Xor(Xor(Xor(Shr(x, 2), Shl(x, 30)), Xor(Shr(x, 13), Shl(x, 19))),
               Xor(Shr(x, 22), Shl(x, 10)));
}
SOLOMINER_INLINE V BigS1(V x) {
    return Xor(Xor(Xor(Shr(x, 6), Shl(x, 26)), Xor(Shr(x, 11), Shl(x, 21))),
               Xor(Shr(x, 25), Shl(x, 7)));
}
SOLOMINER_INLINE V SmallS0(V x) {
    return Xor(Xor(Xor(Shr(x, 7), Shl(x, 25)), Xor(Shr(x, 18), Shl(x, 14))), Shr(x, 3));
}
SOLOMINER_INLINE V SmallS1(V x) {
    return Xor(Xor(Xor(Shr(x, 17), Shl(x, 15)), Xor(Shr(x, 19), Shl(x, 13))), Shr(x, 10));
}
// Ch(x,y,z) = (x∧y)⊕(¬x∧z) (4.2) = z ⊕ (x ∧ (y ⊕ z)): three operations.
SOLOMINER_INLINE V Ch(V x, V y, V z) { return Xor(z, And(x, Xor(y, z))); }
// Maj(x,y,z) (4.3) = y ⊕ ((x ⊕ y) ∧ (y ⊕ z)). In round t, y ⊕ z = b ⊕ c is round t-1's
// x ⊕ y (= a ⊕ b then), which the compiler finds and reuses.
SOLOMINER_INLINE V Maj(V x, V y, V z) { return Xor(y, And(Xor(x, y), Xor(y, z))); }
// Byte swap of each 32-bit lane (vpshufb within 128-bit halves).
SOLOMINER_INLINE V Bswap(V x, V shuffle) { return _mm256_shuffle_epi8(x, shuffle); }

// ---- Rounds (§6.2.2 step 3). ----
// The eight working variables live in s[8] and rotate by naming: at round t, variable i
// (a = 0 ... h = 7) is s[(i - t) & 7]. A round writes the new e over d and the new a over h,
// which is where round t + 1 looks for them. hk = h + K_t + W_t, formed by the caller in
// the cheapest way for that round (constant, one add, or two).
template <int t>
SOLOMINER_INLINE void Round(V (&s)[8], V hk) {
    V& a = s[(0 - t) & 7];
    V& b = s[(1 - t) & 7];
    V& c = s[(2 - t) & 7];
    V& d = s[(3 - t) & 7];
    V& e = s[(4 - t) & 7];
    V& f = s[(5 - t) & 7];
    V& g = s[(6 - t) & 7];
    V& h = s[(7 - t) & 7];
    // Ch is ready one cycle after e, Σ1 two: adding Ch first shortens the e→e chain.
    const V t1 = Add(Add(hk, Ch(e, f, g)), BigS1(e));
    const V t2 = Add(BigS0(a), Maj(a, b, c));
    d = Add(d, t1);
    h = Add(t1, t2);
}
// A round of which only the new e is ever used (hash 2, rounds 57..60).
template <int t>
SOLOMINER_INLINE void RoundE(V (&s)[8], V hk) {
    V& d = s[(3 - t) & 7];
    V& e = s[(4 - t) & 7];
    V& f = s[(5 - t) & 7];
    V& g = s[(6 - t) & 7];
    d = Add(Add(d, Add(hk, Ch(e, f, g))), BigS1(e));
}
template <int t>
SOLOMINER_INLINE V& HVar(V (&s)[8]) {
    return s[(7 - t) & 7];
}

// Message schedule (§6.2.2 step 1), W_t in w[t]. The unrolled steps index it with
// constants (registers, where there are enough); the rolled blocks below read it from the
// stack.
template <int t>
SOLOMINER_INLINE V& Wr(V (&w)[64]) {
    return w[t];
}
template <int t>
SOLOMINER_INLINE void Expand(V (&w)[64]) {
    Wr<t>(w) = Add(Add(SmallS1(Wr<t - 2>(w)), Wr<t - 7>(w)),
                   Add(SmallS0(Wr<t - 15>(w)), Wr<t - 16>(w)));
}

// Per-call values: everything of hash 1 that does not depend on the nonce.
struct PerCall {
    uint32_t s3[8];     // working variables a..h before round 3
    uint32_t e4_base;   // e after round 3 = e4_base + W3
    uint32_t a4_base;   // a after round 3 = a4_base + W3
    uint32_t hk[3];     // h + K_t + W_t of rounds 4, 5, 6 (h is still a per-call value there)
    uint32_t kw16, kw17;  // K16 + W16, K17 + W17
    uint32_t w16, w17;
    uint32_t c18;       // W18 = c18 + σ0(W3)
    uint32_t c19;       // W19 = c19 + W3
    uint32_t c31;       // W31 = σ1(W29) + W24 + c31
    uint32_t c32;       // W32 = σ1(W30) + W25 + c32
};

void Prepare(const HeaderWork& work, PerCall& p) {
    const uint32_t w0 = work.tail[0], w1 = work.tail[1], w2 = work.tail[2];
    uint32_t a = work.midstate[0], b = work.midstate[1], c = work.midstate[2],
             d = work.midstate[3], e = work.midstate[4], f = work.midstate[5],
             g = work.midstate[6], h = work.midstate[7];
    const uint32_t wt[3] = {w0, w1, w2};
    for (int t = 0; t < 3; ++t) {
        const uint32_t t1 = h + BigS1s(e) + Chs(e, f, g) + kK[t] + wt[t];
        const uint32_t t2 = BigS0s(a) + Majs(a, b, c);
        h = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
    }
    p.s3[0] = a; p.s3[1] = b; p.s3[2] = c; p.s3[3] = d;
    p.s3[4] = e; p.s3[5] = f; p.s3[6] = g; p.s3[7] = h;
    // Round 3 without its W3 term.
    const uint32_t t1 = h + BigS1s(e) + Chs(e, f, g) + kK[3];
    const uint32_t t2 = BigS0s(a) + Majs(a, b, c);
    p.e4_base = d + t1;
    p.a4_base = t1 + t2;
    // Before round 4 h = g3, before 5 h = f3, before 6 h = e3: still per-call values.
    p.hk[0] = g + kK[4] + Pad1(4);
    p.hk[1] = f + kK[5] + Pad1(5);
    p.hk[2] = e + kK[6] + Pad1(6);
    // W16 = σ1(W14) + W9 + σ0(W1) + W0 and W17 = σ1(W15) + W10 + σ0(W2) + W1.
    p.w16 = SmallS1s(Pad1(14)) + Pad1(9) + SmallS0s(w1) + w0;
    p.w17 = SmallS1s(Pad1(15)) + Pad1(10) + SmallS0s(w2) + w1;
    p.kw16 = p.w16 + kK[16];
    p.kw17 = p.w17 + kK[17];
    p.c18 = SmallS1s(p.w16) + Pad1(11) + w2;             // + σ0(W3)
    p.c19 = SmallS1s(p.w17) + Pad1(12) + SmallS0s(Pad1(4));  // + W3
    p.c31 = SmallS0s(p.w16) + Pad1(15);
    p.c32 = SmallS0s(p.w17) + p.w16;
}

// Hash 1, second block, rounds 4..63 plus the schedule; w[3] holds W3 on entry and the
// state before round 4 is in s. Each step t computes W_t (if a vector) then round t.
template <int t>
SOLOMINER_INLINE void Hash1Step(V (&s)[8], V (&w)[64], const PerCall& p, const Consts& c) {
    if constexpr (t >= 4 && t <= 6) {
        Round<t>(s, Set(p.hk[t - 4]));
    } else if constexpr (t >= 7 && t <= 15) {
        Round<t>(s, Add(HVar<t>(s), Set(c.kw1[t])));
    } else if constexpr (t == 16) {
        Round<t>(s, Add(HVar<t>(s), Set(p.kw16)));
    } else if constexpr (t == 17) {
        Round<t>(s, Add(HVar<t>(s), Set(p.kw17)));
    } else {
        // W_t = σ1(W_{t-2}) + W_{t-7} + σ0(W_{t-15}) + W_{t-16}, with the padding zeros
        // dropped and the constant terms pre-summed (the comment names what is left).
        if constexpr (t == 18) {
            Wr<18>(w) = Add(Set(p.c18), SmallS0(Wr<3>(w)));  // c18 + σ0(W3)
        } else if constexpr (t == 19) {
            Wr<19>(w) = Add(Set(p.c19), Wr<3>(w));  // c19 + W3
        } else if constexpr (t == 20) {
            Wr<20>(w) = Add(SmallS1(Wr<18>(w)), Set(c.pad1_4));  // σ1(W18) + W4
        } else if constexpr (t == 21) {
            Wr<21>(w) = SmallS1(Wr<19>(w));  // W14, σ0(W6), W5 are zero
        } else if constexpr (t == 22) {
            Wr<22>(w) = Add(SmallS1(Wr<20>(w)), Set(c.pad1_15));  // σ1(W20) + W15
        } else if constexpr (t == 23) {
            Wr<23>(w) = Add(SmallS1(Wr<21>(w)), Set(p.w16));  // σ1(W21) + W16
        } else if constexpr (t == 24) {
            Wr<24>(w) = Add(SmallS1(Wr<22>(w)), Set(p.w17));  // σ1(W22) + W17
        } else if constexpr (t >= 25 && t <= 29) {
            Wr<t>(w) = Add(SmallS1(Wr<t - 2>(w)), Wr<t - 7>(w));  // σ0(W10..14) = W9..13 = 0
        } else if constexpr (t == 30) {
            Wr<30>(w) = Add(Add(SmallS1(Wr<28>(w)), Wr<23>(w)),
                            Set(c.s0_pad1_15));
        } else if constexpr (t == 31) {
            Wr<31>(w) = Add(Add(SmallS1(Wr<29>(w)), Wr<24>(w)), Set(p.c31));
        } else if constexpr (t == 32) {
            Wr<32>(w) = Add(Add(SmallS1(Wr<30>(w)), Wr<25>(w)), Set(p.c32));
        } else if constexpr (t == 33) {
            Wr<33>(w) = Add(Add(SmallS1(Wr<31>(w)), Wr<26>(w)),
                            Add(SmallS0(Wr<18>(w)), Set(p.w17)));
        } else {
            Expand<t>(w);
        }
        Round<t>(s, Add(HVar<t>(s), Add(Wr<t>(w), Set(c.k[t]))));
    }
}

// Hash 2 (the digest of hash 1, one padded block), rounds 1..60. w[0..7] hold W0..W7 and s
// the state before round 1.
template <int t>
SOLOMINER_INLINE void Hash2Step(V (&s)[8], V (&w)[64], const Consts& c) {
    if constexpr (t >= 1 && t <= 3) {
        // h before rounds 1, 2, 3 is still H(0)_6, H(0)_5, H(0)_4.
        Round<t>(s, Add(Wr<t>(w), Set(c.kw2[t])));
    } else if constexpr (t >= 4 && t <= 7) {
        Round<t>(s, Add(HVar<t>(s), Add(Wr<t>(w), Set(c.k[t]))));
    } else if constexpr (t >= 8 && t <= 15) {
        Round<t>(s, Add(HVar<t>(s), Set(c.kw2[t])));
    } else {
        if constexpr (t == 16) {
            Wr<16>(w) = Add(SmallS0(Wr<1>(w)), Wr<0>(w));  // σ1(W14) = W9 = 0
        } else if constexpr (t == 17) {
            Wr<17>(w) = Add(Add(SmallS0(Wr<2>(w)), Wr<1>(w)), Set(c.s1_pad2_15));
        } else if constexpr (t >= 18 && t <= 21) {
            Wr<t>(w) = Add(SmallS1(Wr<t - 2>(w)), Add(SmallS0(Wr<t - 15>(w)), Wr<t - 16>(w)));
        } else if constexpr (t == 22) {
            Wr<22>(w) = Add(Add(SmallS1(Wr<20>(w)), Set(c.pad2_15)),
                            Add(SmallS0(Wr<7>(w)), Wr<6>(w)));
        } else if constexpr (t == 23) {
            Wr<23>(w) = Add(Add(SmallS1(Wr<21>(w)), Wr<16>(w)),
                            Add(Wr<7>(w), Set(c.s0_pad2_8)));
        } else if constexpr (t == 24) {
            Wr<24>(w) = Add(Add(SmallS1(Wr<22>(w)), Wr<17>(w)), Set(c.pad2_8));
        } else if constexpr (t >= 25 && t <= 29) {
            Wr<t>(w) = Add(SmallS1(Wr<t - 2>(w)), Wr<t - 7>(w));  // σ0(W10..14) = W9..13 = 0
        } else if constexpr (t == 30) {
            Wr<30>(w) = Add(Add(SmallS1(Wr<28>(w)), Wr<23>(w)), Set(c.s0_pad2_15));
        } else if constexpr (t == 31) {
            Wr<31>(w) = Add(Add(SmallS1(Wr<29>(w)), Wr<24>(w)),
                            Add(SmallS0(Wr<16>(w)), Set(c.pad2_15)));
        } else {
            Expand<t>(w);
        }
        const V hk = Add(HVar<t>(s), Add(Wr<t>(w), Set(c.k[t])));
        if constexpr (t <= 56) {
            Round<t>(s, hk);
        } else {
            RoundE<t>(s, hk);
        }
    }
}

// Rounds that have nothing left to precompute are run as a loop over blocks of eight (the
// rotation of the working variables repeats every eight rounds, so the state stays in
// registers across iterations). Fully unrolled, the loop body (about 36 KiB with VEX
// encodings and spills) overflows the 32 KiB L1 instruction cache and ran 20-35% slower;
// the loop costs a few scalar instructions per 8 rounds.
// Hash 1 rounds kHash1Rolled..63 and hash 2 rounds kHash2Rolled..56 are rolled.
constexpr int kHash1Rolled = 40;
constexpr int kHash2Rolled = 33;
static_assert((64 - kHash1Rolled) % 8 == 0 && kHash1Rolled >= 34, "hash 1 blocks of 8");
static_assert((57 - kHash2Rolled) % 8 == 0 && kHash2Rolled >= 32, "hash 2 blocks of 8");

// One general round: W_t from the schedule, then the round; r = t mod 8 names the variables.
template <int r>
SOLOMINER_INLINE void GeneralStep(V (&s)[8], V* w, const uint32_t* k, int t) {
    w[t] = Add(Add(SmallS1(w[t - 2]), w[t - 7]), Add(SmallS0(w[t - 15]), w[t - 16]));
    Round<r>(s, Add(HVar<r>(s), Add(w[t], Set(k[t]))));
}
template <int off, std::size_t... R>
SOLOMINER_INLINE void GeneralBlock(V (&s)[8], V* w, const uint32_t* k, int t0,
                                   std::index_sequence<R...>) {
    (GeneralStep<(off + int(R)) & 7>(s, w, k, t0 + int(R)), ...);
}

template <std::size_t... T>
SOLOMINER_INLINE void Hash1Unrolled(V (&s)[8], V (&w)[64], const PerCall& p, const Consts& c,
                                    std::index_sequence<T...>) {
    (Hash1Step<int(T) + 4>(s, w, p, c), ...);
}
template <std::size_t... T>
SOLOMINER_INLINE void Hash2Unrolled(V (&s)[8], V (&w)[64], const Consts& c,
                                    std::index_sequence<T...>) {
    (Hash2Step<int(T) + 1>(s, w, c), ...);
}
template <std::size_t... T>
SOLOMINER_INLINE void Hash2Tail(V (&s)[8], V (&w)[64], const Consts& c,
                                std::index_sequence<T...>) {
    (Hash2Step<int(T) + 57>(s, w, c), ...);
}

// Hash 1 rounds 4..63 (see Hash1Step).
SOLOMINER_INLINE void Hash1Rounds(V (&s)[8], V (&w)[64], const PerCall& p, const Consts& c) {
    Hash1Unrolled(s, w, p, c, std::make_index_sequence<kHash1Rolled - 4>{});
#pragma GCC unroll 1
    for (int t0 = kHash1Rolled; t0 < 64; t0 += 8) {
        GeneralBlock<kHash1Rolled & 7>(s, w, c.k, t0, std::make_index_sequence<8>{});
    }
}
// Hash 2 rounds 1..60 (see Hash2Step).
SOLOMINER_INLINE void Hash2Rounds(V (&s)[8], V (&w)[64], const Consts& c) {
    Hash2Unrolled(s, w, c, std::make_index_sequence<kHash2Rolled - 1>{});
#pragma GCC unroll 1
    for (int t0 = kHash2Rolled; t0 < 57; t0 += 8) {
        GeneralBlock<kHash2Rolled & 7>(s, w, c.k, t0, std::make_index_sequence<8>{});
    }
    Hash2Tail(s, w, c, std::make_index_sequence<4>{});
}

uint32_t ScanAvx2(const HeaderWork& work, uint32_t first, uint32_t count,
                    uint32_t max_top_word, uint32_t* hits) {
    PerCall p;
    Prepare(work, p);
    // Launder the table's address: the compiler must now load the constants (as broadcast
    // memory operands) instead of rebuilding them from immediates on port 5.
    const Consts* cp = &kConsts;
    __asm__("" : "+r"(cp));
    const Consts& c = *cp;
    const V vmax = Set(max_top_word);
    const V bswap = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(c.bswap_shuffle));
    V nonce = Add(Set(first), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    uint32_t found = 0;
    for (uint32_t i = 0; i < count; i += kLanes) {
        // ---- Hash 1: second block of the header. ----
        V w[64];
        V s[8];
        // The header stores the nonce little-endian; SHA-256 reads words big-endian.
        w[3] = Bswap(nonce, bswap);
        // Round 3: its T1 without W3 is per-call, so e and a after it are one add each.
        // State before round 4 (rotation t = 4: a is s[4], b s[5], ..., h s[3]).
        s[4] = Add(Set(p.a4_base), w[3]);  // a
        s[5] = Set(p.s3[0]);               // b = a3
        s[6] = Set(p.s3[1]);               // c = b3
        s[7] = Set(p.s3[2]);               // d = c3
        s[0] = Add(Set(p.e4_base), w[3]);  // e
        s[1] = Set(p.s3[4]);               // f = e3
        s[2] = Set(p.s3[5]);               // g = f3
        s[3] = Set(p.s3[6]);               // h = g3 (only read through p.hk[0])
        Hash1Rounds(s, w, p, c);
        // After round 63 (rotation 64 ≡ 0) variable i is s[i]; H(2)_i = H(1)_i + that.
        V w2[64];
        for (int j = 0; j < 8; ++j) w2[j] = Add(s[j], Set(work.midstate[j]));

        // ---- Hash 2. ----
        // Round 0 sees only H(0) and W0: e1 = d + T1 = (H(0)_3 + C0) + W0 and
        // a1 = T1 + T2 = (C0 + T2) + W0. State before round 1 at rotation 1 (a is s[7]).
        s[7] = Add(w2[0], Set(c.h2_a1));
        s[0] = Set(c.iv[0]);
        s[1] = Set(c.iv[1]);
        s[2] = Set(c.iv[2]);
        s[3] = Add(w2[0], Set(c.h2_e1));
        s[4] = Set(c.iv[4]);
        s[5] = Set(c.iv[5]);
        s[6] = Set(c.iv[6]);
        Hash2Rounds(s, w2, c);
        // Round 60 (rotation 60: d is s[(3 - 60) & 7] = s[7]) left the e we need in s[7].
        const V h7 = Add(s[7], Set(c.iv[7]));
        // bswap32(H7) <= max_top_word, unsigned: max(x, m) == m; one bit per lane.
        const V top = Bswap(h7, bswap);
        uint32_t m = uint32_t(_mm256_movemask_ps(
            _mm256_castsi256_ps(_mm256_cmpeq_epi32(_mm256_max_epu32(top, vmax), vmax))));
        if (__builtin_expect(m != 0, 0)) {
            const uint32_t base = first + i;
            do {
                hits[found++] = base + uint32_t(__builtin_ctz(m));
                m &= m - 1;
            } while (m != 0);
        }
        nonce = Add(nonce, Set(c.lanes));
    }
    return found;
}

#undef SOLOMINER_INLINE

}  // namespace

const Backend kBackend = {"avx2", "avx2(8way)", kLanes, ScanAvx2};

}  // namespace avx2
}  // namespace solominer

#endif  // SOLOMINER_HAVE_AVX2

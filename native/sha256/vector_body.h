// The SHA-256d nonce loop of the SIMD back ends (avx2.cpp, avx512.cpp), written once as a
// template over an instruction-set traits struct. Each back end includes this file and
// instantiates VectorScan<ItsTraits> in its own .cpp, so the loop is compiled with that
// file's flags only (CMakeLists.txt); everything here has internal linkage (an unnamed
// namespace, or templates over a traits struct that has it), so no function compiled for
// one instruction set can be shared by the linker with another.
//
// Nonces are hashed side by side, one per 32-bit lane: word t of lane i holds message/state
// word t for nonce first + kLanes·k + i. Everything not depending on the nonce is moved out
// of the loop; what is left follows FIPS 180-4 §6.2.2 (SHA-256 hash computation) with these
// shortcuts, each exact:
//  - the first 64 header bytes are in the midstate (HeaderWork), so per nonce hash 1 is one
//    compression of the second block; its rounds 0..2 only see W0..W2 (merkle tail, time,
//    bits), so they run once per call as scalars, and so does every part of round 3 except
//    the "+ W3" (W3 is the nonce word);
//  - hash 1's block 2 words W4..W15 are padding constants (§5.1.1: 0x80000000, zeros, the
//    length 640), so K_t + W_t is a compile-time constant there, and W16, W17 and the
//    nonce-independent sums inside W18..W33 (§6.2.2 step 1) are per-call constants;
//  - hash 2 hashes the 32-byte digest: W8..W15 are 0x80000000, zeros and 256; its round 0
//    only adds W0 to constants derived from the initial value H(0) (§5.3.3);
//  - of hash 2 only H7 is needed (the caller's test is on bswap32(H7)); H7 = H(0)_7 + h
//    after round 63 = H(0)_7 + e produced by round 60, so rounds 61..63 are skipped, and so
//    is the a-half of rounds 57..60 (those a values only ever reach rounds >= 61).
//
// Version rolling (HeaderWork.versions = K > 1; software AsicBoost): hash 1's message is the
// same for every version (merkle tail, time, bits, nonce, padding: all in the second block),
// so W18..W63 + K_t are computed once per nonce vector (ScanRolled), kept in L1, and read by
// the rounds of each of the K midstates. That takes the schedule (about a sixth of the vector
// operations per hash) and the "+ K_t" adds off all but one version. Where the instruction set
// has the registers (Isa::kVersionPairs), two versions' rounds run side by side. K = 1 runs
// ScanOne, the formulation from before version rolling, unchanged.
//
// The traits struct (see avx2.cpp and avx512.cpp) supplies the vector type, kLanes, and
// Set, Add, Sigma<a,b,c> (ROTR^a ⊕ ROTR^b ⊕ ROTR^c), SigmaShr<a,b,s> (ROTR^a ⊕ ROTR^b ⊕
// SHR^s), Ch, Maj, BswapKey/Bswap, LaneIndex and AtMost (lanes with x <= max, unsigned, as
// a bit mask). How each is built from the instruction set is the traits' business.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>

#include "sha256.h"

namespace solominer {
namespace {
namespace vector_body {

#define SOLOMINER_INLINE inline __attribute__((always_inline))

// Padding words of hash 1's second block (80-byte message, §5.1.1) and of hash 2's block
// (32-byte message). Index t < 16; W0..W3 / W0..W7 are data, not used from here.
constexpr uint32_t Pad1(int t) { return t == 4 ? 0x80000000u : t == 15 ? 640u : 0u; }
constexpr uint32_t Pad2(int t) { return t == 8 ? 0x80000000u : t == 15 ? 256u : 0u; }

// Hash 2 round 0 works on H(0) only, plus W0: T1 = C0 + W0, T2 = S0(a) + Maj(a,b,c).
constexpr uint32_t kH2C0 = kSha256Init[7] + BigSigma1(kSha256Init[4]) +
                           Ch(kSha256Init[4], kSha256Init[5], kSha256Init[6]) + kSha256K[0];
constexpr uint32_t kH2T20 =
    BigSigma0(kSha256Init[0]) + Maj(kSha256Init[0], kSha256Init[1], kSha256Init[2]);

// Every loop constant, gathered in one table that the loop reads through a pointer the
// compiler cannot see through (see Scan). Left to itself GCC 12 materialises each uniform
// vector constant as "mov $imm, %eax; vpbroadcastd %eax, %ymm/zmm", and that broadcast takes
// a slot on port 5, one of the vector ALU ports these loops saturate; a broadcast from memory
// (vpbroadcastd m32, or an AVX-512 {1toN} operand) is a plain load instead.
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
    uint32_t lanes;     // the nonce step
    uint32_t bswap_mask;  // 0xff00ff00, for byte swaps built from rotations
    alignas(64) uint8_t bswap_shuffle[64];  // vpshufb control reversing each word's bytes
};
constexpr Consts MakeConsts(uint32_t lanes) {
    Consts c{};
    for (int t = 0; t < 64; ++t) c.k[t] = kSha256K[t];
    for (int t = 4; t < 16; ++t) c.kw1[t] = kSha256K[t] + Pad1(t);
    for (int t = 8; t < 16; ++t) c.kw2[t] = kSha256K[t] + Pad2(t);
    for (int t = 1; t < 4; ++t) c.kw2[t] = kSha256K[t] + kSha256Init[7 - t];
    c.pad1_4 = Pad1(4);
    c.pad1_15 = Pad1(15);
    c.s0_pad1_15 = SmallSigma0(Pad1(15)) + Pad1(14);
    c.pad2_8 = Pad2(8);
    c.pad2_15 = Pad2(15);
    c.s0_pad2_8 = SmallSigma0(Pad2(8));
    c.s1_pad2_15 = SmallSigma1(Pad2(15));
    c.s0_pad2_15 = SmallSigma0(Pad2(15));
    c.h2_a1 = kH2C0 + kH2T20;
    c.h2_e1 = kSha256Init[3] + kH2C0;
    for (int i = 0; i < 8; ++i) c.iv[i] = kSha256Init[i];
    c.lanes = lanes;
    c.bswap_mask = 0xff00ff00u;
    for (int i = 0; i < 64; ++i) c.bswap_shuffle[i] = uint8_t((i & ~3) + 3 - (i & 3));
    return c;
}
template <uint32_t kLanes>
constexpr Consts kConsts = MakeConsts(kLanes);

// Per-call values: everything of hash 1 that does not depend on the nonce. The message words
// are the same for every version (they come from the second block); the state is not.
struct PerCall {
    uint32_t kw16, kw17;  // K16 + W16, K17 + W17
    uint32_t w16, w17;
    uint32_t c18;       // W18 = c18 + σ0(W3)
    uint32_t c19;       // W19 = c19 + W3
    uint32_t c31;       // W31 = σ1(W29) + W24 + c31
    uint32_t c32;       // W32 = σ1(W30) + W25 + c32
};
struct PerVersion {
    uint32_t s3[8];     // working variables a..h before round 3
    uint32_t e4_base;   // e after round 3 = e4_base + W3
    uint32_t a4_base;   // a after round 3 = a4_base + W3
    uint32_t hk[3];     // h + K_t + W_t of rounds 4, 5, 6 (h is still a per-call value there)
    uint32_t midstate[8];  // the feed-forward of hash 1
};

inline void Prepare(const HeaderWork& work, PerCall& p) {
    const uint32_t w0 = work.tail[0], w1 = work.tail[1], w2 = work.tail[2];
    // W16 = σ1(W14) + W9 + σ0(W1) + W0 and W17 = σ1(W15) + W10 + σ0(W2) + W1.
    p.w16 = SmallSigma1(Pad1(14)) + Pad1(9) + SmallSigma0(w1) + w0;
    p.w17 = SmallSigma1(Pad1(15)) + Pad1(10) + SmallSigma0(w2) + w1;
    p.kw16 = p.w16 + kSha256K[16];
    p.kw17 = p.w17 + kSha256K[17];
    p.c18 = SmallSigma1(p.w16) + Pad1(11) + w2;                 // + σ0(W3)
    p.c19 = SmallSigma1(p.w17) + Pad1(12) + SmallSigma0(Pad1(4));  // + W3
    p.c31 = SmallSigma0(p.w16) + Pad1(15);
    p.c32 = SmallSigma0(p.w17) + p.w16;
}

inline void PrepareVersion(const HeaderWork& work, uint32_t v, PerVersion& p) {
    const uint32_t wt[3] = {work.tail[0], work.tail[1], work.tail[2]};
    uint32_t* s = p.s3;
    for (int i = 0; i < 8; ++i) s[i] = p.midstate[i] = work.midstate[v][i];
    ScalarRounds(s, wt, 0, 3);
    // Round 3 without its W3 term.
    const uint32_t t1 = s[7] + BigSigma1(s[4]) + Ch(s[4], s[5], s[6]) + kSha256K[3];
    const uint32_t t2 = BigSigma0(s[0]) + Maj(s[0], s[1], s[2]);
    p.e4_base = s[3] + t1;
    p.a4_base = t1 + t2;
    // Before round 4 h = g3, before 5 h = f3, before 6 h = e3: still per-call values.
    p.hk[0] = s[6] + kSha256K[4] + Pad1(4);
    p.hk[1] = s[5] + kSha256K[5] + Pad1(5);
    p.hk[2] = s[4] + kSha256K[6] + Pad1(6);
}

// Rounds that have nothing left to precompute are run as a loop over blocks of eight (the
// rotation of the working variables repeats every eight rounds, so the state stays in
// registers across iterations). Fully unrolled, the AVX-512 loop body is about 21 KiB, most
// of the 32 KiB L1 instruction cache and far beyond the decoded-uop cache (rolled: about
// 17 KiB at the same measured speed), and the AVX2 one about 36 KiB with VEX encodings and
// spills, which overflowed the L1 instruction cache and ran 20-35% slower. The loop costs a
// few scalar instructions per 8 rounds.
// Hash 1 rounds kHash1Rolled..63 and hash 2 rounds kHash2Rolled..56 are rolled.
constexpr int kHash1Rolled = 40;
constexpr int kHash2Rolled = 33;
static_assert((64 - kHash1Rolled) % 8 == 0 && kHash1Rolled >= 34, "hash 1 blocks of 8");
static_assert((57 - kHash2Rolled) % 8 == 0 && kHash2Rolled >= 32, "hash 2 blocks of 8");

template <class Isa>
struct VectorScan {
    using V = typename Isa::V;
    static constexpr uint32_t kLanes = Isa::kLanes;

    static SOLOMINER_INLINE V Set(uint32_t x) { return Isa::Set(x); }
    static SOLOMINER_INLINE V Add(V a, V b) { return Isa::Add(a, b); }
    // Σ0, Σ1, σ0, σ1 (§4.1.2 (4.4)-(4.7)).
    static SOLOMINER_INLINE V BigS0(V x) { return Isa::template Sigma<2, 13, 22>(x); }
    static SOLOMINER_INLINE V BigS1(V x) { return Isa::template Sigma<6, 11, 25>(x); }
    static SOLOMINER_INLINE V SmallS0(V x) { return Isa::template SigmaShr<7, 18, 3>(x); }
    static SOLOMINER_INLINE V SmallS1(V x) { return Isa::template SigmaShr<17, 19, 10>(x); }

    // ---- Rounds (§6.2.2 step 3). ----
    // The eight working variables live in s[8] and rotate by naming: at round t, variable i
    // (a = 0 ... h = 7) is s[(i - t) & 7]. A round writes the new e over d and the new a over
    // h, which is where round t + 1 looks for them. hk = h + K_t + W_t, formed by the caller
    // in the cheapest way for that round (constant, one add, or two).
    template <int t>
    static SOLOMINER_INLINE void Round(V (&s)[8], V hk) {
        V& a = s[(0 - t) & 7];
        V& b = s[(1 - t) & 7];
        V& c = s[(2 - t) & 7];
        V& d = s[(3 - t) & 7];
        V& e = s[(4 - t) & 7];
        V& f = s[(5 - t) & 7];
        V& g = s[(6 - t) & 7];
        V& h = s[(7 - t) & 7];
        // Ch is ready one cycle after e, Σ1 two: adding Ch first shortens the e→e chain.
        const V t1 = Add(Add(hk, Isa::Ch(e, f, g)), BigS1(e));
        const V t2 = Add(BigS0(a), Isa::Maj(a, b, c));
        d = Add(d, t1);
        h = Add(t1, t2);
    }
    // A round of which only the new e is ever used (hash 2, rounds 57..60).
    template <int t>
    static SOLOMINER_INLINE void RoundE(V (&s)[8], V hk) {
        V& d = s[(3 - t) & 7];
        V& e = s[(4 - t) & 7];
        V& f = s[(5 - t) & 7];
        V& g = s[(6 - t) & 7];
        d = Add(Add(d, Add(hk, Isa::Ch(e, f, g))), BigS1(e));
    }
    template <int t>
    static SOLOMINER_INLINE V& HVar(V (&s)[8]) {
        return s[(7 - t) & 7];
    }

    // Message schedule (§6.2.2 step 1), W_t in w[t]. The unrolled steps index it with
    // constants (registers, where there are enough); the rolled blocks below read it from
    // the stack.
    template <int t>
    static SOLOMINER_INLINE void Expand(V (&w)[64]) {
        w[t] = Add(Add(SmallS1(w[t - 2]), w[t - 7]), Add(SmallS0(w[t - 15]), w[t - 16]));
    }

    // Hash 1's W_t for t = 18..63 (§6.2.2 step 1) into w[t], from w[3] = W3 and earlier w:
    // W_t = σ1(W_{t-2}) + W_{t-7} + σ0(W_{t-15}) + W_{t-16}, with the padding zeros dropped
    // and the constant terms pre-summed (the comment names what is left).
    template <int t>
    static SOLOMINER_INLINE void Hash1Word(V (&w)[64], const PerCall& p, const Consts& c) {
        if constexpr (t == 18) {
            w[18] = Add(Set(p.c18), SmallS0(w[3]));  // c18 + σ0(W3)
        } else if constexpr (t == 19) {
            w[19] = Add(Set(p.c19), w[3]);  // c19 + W3
        } else if constexpr (t == 20) {
            w[20] = Add(SmallS1(w[18]), Set(c.pad1_4));  // σ1(W18) + W4
        } else if constexpr (t == 21) {
            w[21] = SmallS1(w[19]);  // W14, σ0(W6), W5 are zero
        } else if constexpr (t == 22) {
            w[22] = Add(SmallS1(w[20]), Set(c.pad1_15));  // σ1(W20) + W15
        } else if constexpr (t == 23) {
            w[23] = Add(SmallS1(w[21]), Set(p.w16));  // σ1(W21) + W16
        } else if constexpr (t == 24) {
            w[24] = Add(SmallS1(w[22]), Set(p.w17));  // σ1(W22) + W17
        } else if constexpr (t >= 25 && t <= 29) {
            w[t] = Add(SmallS1(w[t - 2]), w[t - 7]);  // σ0(W10..14) = W9..13 = 0
        } else if constexpr (t == 30) {
            w[30] = Add(Add(SmallS1(w[28]), w[23]), Set(c.s0_pad1_15));
        } else if constexpr (t == 31) {
            w[31] = Add(Add(SmallS1(w[29]), w[24]), Set(p.c31));
        } else if constexpr (t == 32) {
            w[32] = Add(Add(SmallS1(w[30]), w[25]), Set(p.c32));
        } else if constexpr (t == 33) {
            w[33] = Add(Add(SmallS1(w[31]), w[26]), Add(SmallS0(w[18]), Set(p.w17)));
        } else {
            Expand<t>(w);
        }
    }

    // Hash 1, second block, rounds 4..63 plus the schedule; w[3] holds W3 on entry and the
    // state before round 4 is in s. Each step t computes W_t (if a vector) then round t.
    template <int t>
    static SOLOMINER_INLINE void Hash1Step(V (&s)[8], V (&w)[64], const PerCall& p,
                                           const PerVersion& pv, const Consts& c) {
        if constexpr (t >= 4 && t <= 6) {
            Round<t>(s, Set(pv.hk[t - 4]));
        } else if constexpr (t >= 7 && t <= 15) {
            Round<t>(s, Add(HVar<t>(s), Set(c.kw1[t])));
        } else if constexpr (t == 16) {
            Round<t>(s, Add(HVar<t>(s), Set(p.kw16)));
        } else if constexpr (t == 17) {
            Round<t>(s, Add(HVar<t>(s), Set(p.kw17)));
        } else {
            Hash1Word<t>(w, p, c);
            Round<t>(s, Add(HVar<t>(s), Add(w[t], Set(c.k[t]))));
        }
    }

    // Hash 2 (the digest of hash 1, one padded block), rounds 1..60. w[0..7] hold W0..W7
    // and s the state before round 1.
    template <int t>
    static SOLOMINER_INLINE void Hash2Step(V (&s)[8], V (&w)[64], const Consts& c) {
        if constexpr (t >= 1 && t <= 3) {
            // h before rounds 1, 2, 3 is still H(0)_6, H(0)_5, H(0)_4.
            Round<t>(s, Add(w[t], Set(c.kw2[t])));
        } else if constexpr (t >= 4 && t <= 7) {
            Round<t>(s, Add(HVar<t>(s), Add(w[t], Set(c.k[t]))));
        } else if constexpr (t >= 8 && t <= 15) {
            Round<t>(s, Add(HVar<t>(s), Set(c.kw2[t])));
        } else {
            if constexpr (t == 16) {
                w[16] = Add(SmallS0(w[1]), w[0]);  // σ1(W14) = W9 = 0
            } else if constexpr (t == 17) {
                w[17] = Add(Add(SmallS0(w[2]), w[1]), Set(c.s1_pad2_15));
            } else if constexpr (t >= 18 && t <= 21) {
                w[t] = Add(SmallS1(w[t - 2]), Add(SmallS0(w[t - 15]), w[t - 16]));
            } else if constexpr (t == 22) {
                w[22] = Add(Add(SmallS1(w[20]), Set(c.pad2_15)), Add(SmallS0(w[7]), w[6]));
            } else if constexpr (t == 23) {
                w[23] = Add(Add(SmallS1(w[21]), w[16]), Add(w[7], Set(c.s0_pad2_8)));
            } else if constexpr (t == 24) {
                w[24] = Add(Add(SmallS1(w[22]), w[17]), Set(c.pad2_8));
            } else if constexpr (t >= 25 && t <= 29) {
                w[t] = Add(SmallS1(w[t - 2]), w[t - 7]);  // σ0(W10..14) = W9..13 = 0
            } else if constexpr (t == 30) {
                w[30] = Add(Add(SmallS1(w[28]), w[23]), Set(c.s0_pad2_15));
            } else if constexpr (t == 31) {
                w[31] = Add(Add(SmallS1(w[29]), w[24]), Add(SmallS0(w[16]), Set(c.pad2_15)));
            } else {
                Expand<t>(w);
            }
            const V hk = Add(HVar<t>(s), Add(w[t], Set(c.k[t])));
            if constexpr (t <= 56) {
                Round<t>(s, hk);
            } else {
                RoundE<t>(s, hk);
            }
        }
    }

    // One general round: W_t from the schedule, then the round; r = t mod 8 names the
    // variables.
    template <int r>
    static SOLOMINER_INLINE void GeneralStep(V (&s)[8], V* w, const uint32_t* k, int t) {
        w[t] = Add(Add(SmallS1(w[t - 2]), w[t - 7]), Add(SmallS0(w[t - 15]), w[t - 16]));
        Round<r>(s, Add(HVar<r>(s), Add(w[t], Set(k[t]))));
    }
    template <int off, std::size_t... R>
    static SOLOMINER_INLINE void GeneralBlock(V (&s)[8], V* w, const uint32_t* k, int t0,
                                              std::index_sequence<R...>) {
        (GeneralStep<(off + int(R)) & 7>(s, w, k, t0 + int(R)), ...);
    }

    template <std::size_t... T>
    static SOLOMINER_INLINE void Hash1Unrolled(V (&s)[8], V (&w)[64], const PerCall& p,
                                               const PerVersion& pv, const Consts& c,
                                               std::index_sequence<T...>) {
        (Hash1Step<int(T) + 4>(s, w, p, pv, c), ...);
    }
    template <int first, std::size_t... T>
    static SOLOMINER_INLINE void Hash2Unrolled(V (&s)[8], V (&w)[64], const Consts& c,
                                               std::index_sequence<T...>) {
        (Hash2Step<int(T) + first>(s, w, c), ...);
    }

    // Hash 1 rounds 4..63 (see Hash1Step).
    static SOLOMINER_INLINE void Hash1Rounds(V (&s)[8], V (&w)[64], const PerCall& p,
                                             const PerVersion& pv, const Consts& c) {
        Hash1Unrolled(s, w, p, pv, c, std::make_index_sequence<kHash1Rolled - 4>{});
#pragma GCC unroll 1
        for (int t0 = kHash1Rolled; t0 < 64; t0 += 8) {
            GeneralBlock<kHash1Rolled & 7>(s, w, c.k, t0, std::make_index_sequence<8>{});
        }
    }
    // Hash 2 rounds 1..60 (see Hash2Step).
    template <int kRolled = kHash2Rolled>
    static SOLOMINER_INLINE void Hash2Rounds(V (&s)[8], V (&w)[64], const Consts& c) {
        Hash2Unrolled<1>(s, w, c, std::make_index_sequence<kRolled - 1>{});
#pragma GCC unroll 1
        for (int t0 = kRolled; t0 < 57; t0 += 8) {
            GeneralBlock<kRolled & 7>(s, w, c.k, t0, std::make_index_sequence<8>{});
        }
        Hash2Unrolled<57>(s, w, c, std::make_index_sequence<4>{});
    }

    // State before hash 1's round 4 of one version: round 3's T1 without W3 is per-call, so
    // e and a after it are one add each (rotation t = 4: a is s[4], b s[5], ..., h s[3]).
    static SOLOMINER_INLINE void Hash1Start(V (&s)[8], V w3, const PerVersion& pv) {
        s[4] = Add(Set(pv.a4_base), w3);  // a
        s[5] = Set(pv.s3[0]);             // b = a3
        s[6] = Set(pv.s3[1]);             // c = b3
        s[7] = Set(pv.s3[2]);             // d = c3
        s[0] = Add(Set(pv.e4_base), w3);  // e
        s[1] = Set(pv.s3[4]);             // f = e3
        s[2] = Set(pv.s3[5]);             // g = f3
        s[3] = Set(pv.s3[6]);             // h = g3 (only read through pv.hk[0])
    }

    // Hash 2's message (hash 1's state after round 63, in s at rotation 0, plus the feed-forward
    // `midstate`) into w2[0..7], and its state before round 1 into s: round 0 sees only H(0) and
    // W0, so e1 = d + T1 = (H(0)_3 + C0) + W0 and a1 = T1 + T2 = (C0 + T2) + W0 (rotation 1: a is
    // s[7]).
    static SOLOMINER_INLINE void Hash2Start(V (&s)[8], V (&w2)[64], const uint32_t* midstate,
                                            const Consts& c) {
        for (int j = 0; j < 8; ++j) w2[j] = Add(s[j], Set(midstate[j]));
        s[7] = Add(w2[0], Set(c.h2_a1));
        s[0] = Set(c.iv[0]);
        s[1] = Set(c.iv[1]);
        s[2] = Set(c.iv[2]);
        s[3] = Add(w2[0], Set(c.h2_e1));
        s[4] = Set(c.iv[4]);
        s[5] = Set(c.iv[5]);
        s[6] = Set(c.iv[6]);
    }

    // The test on H7 after hash 2's round 60 (rotation 60: the e of round 60 is in s[7]): the
    // lanes whose bswap32(H7) <= max, as a bit mask.
    static SOLOMINER_INLINE uint32_t AtMostH7(const V (&s)[8], V vmax, const Consts& c) {
        const V h7 = Add(s[7], Set(c.iv[7]));
        return Isa::AtMost(Isa::Bswap(h7, Isa::BswapKey(c)), vmax);
    }

    // Hash 2 of hash 1's state after round 63 (in s, rotation 0) and the test on H7.
    template <int kRolled = kHash2Rolled>
    static SOLOMINER_INLINE uint32_t Hash2Test(V (&s)[8], const uint32_t* midstate, V vmax,
                                                 const Consts& c) {
        V w2[64];
        Hash2Start(s, w2, midstate, c);
        Hash2Rounds<kRolled>(s, w2, c);
        return AtMostH7(s, vmax, c);
    }

    static SOLOMINER_INLINE void Record(uint32_t m, uint32_t base, uint32_t version,
                                        ScanHit* hits, uint32_t& found) {
        if (__builtin_expect(m != 0, 0)) {
            do {
                hits[found++] = {base + uint32_t(__builtin_ctz(m)), version};
                m &= m - 1;
            } while (m != 0);
        }
    }

    // One version (K = 1): the schedule computed inside the rounds, as before version rolling.
    // Kept as it was: it is the non-rolling formulation npm run bench compares with.
    static uint32_t ScanOne(const HeaderWork& work, uint32_t first, uint32_t count,
                            uint32_t max_top_word, ScanHit* hits) {
        PerCall p;
        Prepare(work, p);
        PerVersion pv;
        PrepareVersion(work, 0, pv);
        // Launder the table's address: the compiler must now load the constants (as
        // broadcast memory operands) instead of rebuilding them from immediates on port 5.
        const Consts* cp = &kConsts<kLanes>;
        __asm__("" : "+r"(cp));
        const Consts& c = *cp;
        const V vmax = Set(max_top_word);
        V nonce = Add(Set(first), Isa::LaneIndex());
        uint32_t found = 0;
        for (uint32_t i = 0; i < count; i += kLanes) {
            V w[64];
            V s[8];
            // The header stores the nonce little-endian; SHA-256 reads words big-endian.
            w[3] = Isa::Bswap(nonce, Isa::BswapKey(c));
            Hash1Start(s, w[3], pv);
            Hash1Rounds(s, w, p, pv, c);
            Record(Hash2Test(s, pv.midstate, vmax, c), first + i, 0, hits, found);
            nonce = Add(nonce, Set(c.lanes));
        }
        return found;
    }

    // ---- Version rolling: one schedule, K midstates. ----
    // Hash 1's W_t + K_t for t = 18..63 depend on the nonce only: they are computed once per
    // nonce vector into kw[] (L1, 46 vectors) and read by the rounds of every version. The
    // words of rounds 7..17 are per-call constants, stored into kw[] once, so that hash 1
    // rounds kRolledFrom..63 are plain blocks of eight "h + kw[t]" rounds.
    static constexpr int kRolledFrom = 40;
    // Hash 2 rounds kRolledHash2..56 rolled (the traits' choice: see avx512.cpp).
    static constexpr int kRolledHash2 = Isa::kRolledHash2;
    static_assert((57 - kRolledHash2) % 8 == 0 && kRolledHash2 >= 32, "hash 2 blocks of 8");
    static_assert(kRolledFrom >= 7 && kRolledFrom % 8 == 0, "hash 1 blocks of 8 from round 8");

    template <std::size_t... T>
    static SOLOMINER_INLINE void ScheduleWords(V (&w)[64], V* kw, const PerCall& p,
                                               const Consts& c, std::index_sequence<T...>) {
        ((Hash1Word<int(T) + 18>(w, p, c), kw[T + 18] = Add(w[T + 18], Set(c.k[T + 18]))), ...);
    }
    template <int r>
    static SOLOMINER_INLINE void KwRound(V (&s)[8], const V* kw, int t) {
        Round<r>(s, Add(HVar<r>(s), kw[t]));
    }
    template <std::size_t... R>
    static SOLOMINER_INLINE void KwBlock(V (&s)[8], const V* kw, int t0, std::index_sequence<R...>) {
        (KwRound<int(R)>(s, kw, t0 + int(R)), ...);
    }
    template <std::size_t... T>
    static SOLOMINER_INLINE void KwUnrolled(V (&s)[8], const V* kw, std::index_sequence<T...>) {
        (KwRound<(int(T) + 7) & 7>(s, kw, int(T) + 7), ...);
    }

    // Two versions side by side (Isa::kVersionPairs): two independent round chains, so the
    // out-of-order core always has work for both vector ports. Needs twice the registers for
    // the state: it pays with AVX-512's 32, not with AVX2's 16 (there it spills).
    template <int t>
    static SOLOMINER_INLINE void Hash2StepPair(V (&s0)[8], V (&w0)[64], V (&s1)[8], V (&w1)[64],
                                               const Consts& c) {
        Hash2Step<t>(s0, w0, c);
        Hash2Step<t>(s1, w1, c);
    }
    template <int first, std::size_t... T>
    static SOLOMINER_INLINE void Hash2UnrolledPair(V (&s0)[8], V (&w0)[64], V (&s1)[8],
                                                   V (&w1)[64], const Consts& c,
                                                   std::index_sequence<T...>) {
        (Hash2StepPair<int(T) + first>(s0, w0, s1, w1, c), ...);
    }
    template <int r>
    static SOLOMINER_INLINE void GeneralStepPair(V (&s0)[8], V* w0, V (&s1)[8], V* w1,
                                                 const uint32_t* k, int t) {
        GeneralStep<r>(s0, w0, k, t);
        GeneralStep<r>(s1, w1, k, t);
    }
    template <int off, std::size_t... R>
    static SOLOMINER_INLINE void GeneralBlockPair(V (&s0)[8], V* w0, V (&s1)[8], V* w1,
                                                  const uint32_t* k, int t0,
                                                  std::index_sequence<R...>) {
        (GeneralStepPair<(off + int(R)) & 7>(s0, w0, s1, w1, k, t0 + int(R)), ...);
    }
    static SOLOMINER_INLINE void Hash2TestPair(V (&s0)[8], V (&s1)[8], const uint32_t* mid0,
                                               const uint32_t* mid1, V vmax, const Consts& c,
                                               uint32_t& m0, uint32_t& m1) {
        V w0[64], w1[64];
        Hash2Start(s0, w0, mid0, c);
        Hash2Start(s1, w1, mid1, c);
        Hash2UnrolledPair<1>(s0, w0, s1, w1, c, std::make_index_sequence<kRolledHash2 - 1>{});
#pragma GCC unroll 1
        for (int t0 = kRolledHash2; t0 < 57; t0 += 8) {
            GeneralBlockPair<kRolledHash2 & 7>(s0, w0, s1, w1, c.k, t0, std::make_index_sequence<8>{});
        }
        Hash2UnrolledPair<57>(s0, w0, s1, w1, c, std::make_index_sequence<4>{});
        m0 = AtMostH7(s0, vmax, c);
        m1 = AtMostH7(s1, vmax, c);
    }
    template <int r>
    static SOLOMINER_INLINE void KwRoundPair(V (&s0)[8], V (&s1)[8], const V* kw, int t) {
        const V k = kw[t];
        Round<r>(s0, Add(HVar<r>(s0), k));
        Round<r>(s1, Add(HVar<r>(s1), k));
    }
    template <std::size_t... R>
    static SOLOMINER_INLINE void KwBlockPair(V (&s0)[8], V (&s1)[8], const V* kw, int t0,
                                             std::index_sequence<R...>) {
        (KwRoundPair<int(R)>(s0, s1, kw, t0 + int(R)), ...);
    }
    template <std::size_t... T>
    static SOLOMINER_INLINE void KwUnrolledPair(V (&s0)[8], V (&s1)[8], const V* kw,
                                                std::index_sequence<T...>) {
        (KwRoundPair<(int(T) + 7) & 7>(s0, s1, kw, int(T) + 7), ...);
    }

    static uint32_t ScanRolled(const HeaderWork& work, uint32_t first, uint32_t count,
                               uint32_t max_top_word, ScanHit* hits) {
        PerCall p;
        Prepare(work, p);
        const uint32_t versions = work.versions;
        PerVersion pv[kMaxVersions];
        for (uint32_t v = 0; v < versions; ++v) PrepareVersion(work, v, pv[v]);
        const Consts* cp = &kConsts<kLanes>;
        __asm__("" : "+r"(cp));
        const Consts& c = *cp;
        alignas(64) V kw[64];
        for (int t = 7; t < 16; ++t) kw[t] = Set(c.kw1[t]);
        kw[16] = Set(p.kw16);
        kw[17] = Set(p.kw17);
        const V vmax = Set(max_top_word);
        V nonce = Add(Set(first), Isa::LaneIndex());
        uint32_t found = 0;
        for (uint32_t i = 0; i < count; i += kLanes) {
            V w[64];
            w[3] = Isa::Bswap(nonce, Isa::BswapKey(c));
            ScheduleWords(w, kw, p, c, std::make_index_sequence<46>{});
            const V w3 = w[3];
            uint32_t v = 0;
            if constexpr (Isa::kVersionPairs) {
                for (; v + 2 <= versions; v += 2) {
                    V s0[8], s1[8];
                    Hash1Start(s0, w3, pv[v]);
                    Hash1Start(s1, w3, pv[v + 1]);
                    Round<4>(s0, Set(pv[v].hk[0]));
                    Round<4>(s1, Set(pv[v + 1].hk[0]));
                    Round<5>(s0, Set(pv[v].hk[1]));
                    Round<5>(s1, Set(pv[v + 1].hk[1]));
                    Round<6>(s0, Set(pv[v].hk[2]));
                    Round<6>(s1, Set(pv[v + 1].hk[2]));
                    KwUnrolledPair(s0, s1, kw, std::make_index_sequence<kRolledFrom - 7>{});
#pragma GCC unroll 1
                    for (int t0 = kRolledFrom; t0 < 64; t0 += 8) {
                        KwBlockPair(s0, s1, kw, t0, std::make_index_sequence<8>{});
                    }
                    uint32_t m0, m1;
                    Hash2TestPair(s0, s1, pv[v].midstate, pv[v + 1].midstate, vmax, c, m0, m1);
                    Record(m0, first + i, v, hits, found);
                    Record(m1, first + i, v + 1, hits, found);
                }
            }
            for (; v < versions; ++v) {
                V s[8];
                Hash1Start(s, w3, pv[v]);
                Round<4>(s, Set(pv[v].hk[0]));
                Round<5>(s, Set(pv[v].hk[1]));
                Round<6>(s, Set(pv[v].hk[2]));
                KwUnrolled(s, kw, std::make_index_sequence<kRolledFrom - 7>{});
#pragma GCC unroll 1
                for (int t0 = kRolledFrom; t0 < 64; t0 += 8) {
                    KwBlock(s, kw, t0, std::make_index_sequence<8>{});
                }
                Record(Hash2Test<kRolledHash2>(s, pv[v].midstate, vmax, c), first + i, v, hits, found);
            }
            nonce = Add(nonce, Set(c.lanes));
        }
        return found;
    }

    // The back end's ScanFn (sha256.h).
    static uint32_t Scan(const HeaderWork& work, uint32_t first, uint32_t count,
                         uint32_t max_top_word, ScanHit* hits) {
        return work.versions == 1 ? ScanOne(work, first, count, max_top_word, hits)
                                  : ScanRolled(work, first, count, max_top_word, hits);
    }
};

#undef SOLOMINER_INLINE

}  // namespace vector_body
}  // namespace
}  // namespace solominer

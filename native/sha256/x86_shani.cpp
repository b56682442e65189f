// SHA-256d nonce scan with the x86 SHA extensions (SHA-NI): SHA256RNDS2, SHA256MSG1 and
// SHA256MSG2, as described in Intel's "Intel SHA Extensions" white paper (Gulley et al., 2013)
// and the Intel SDM vol. 2; the hash itself is FIPS 180-4 §6.2. Compiled with
// -msha -msse4.1 -mssse3 only (no VEX), so it also runs on SHA-capable cores without AVX.
//
// Register layout (Intel SHA extensions): one state is two registers,
//   ABEF = {F, E, B, A} and CDGH = {H, G, D, C} (dwords 0..3),
// and SHA256RNDS2(CDGH, ABEF, XMM0) does two rounds with W[t]+K[t] taken from the low two
// dwords of XMM0; it returns the new ABEF, and the old ABEF becomes the new CDGH.
//
// Per nonce the work is the compression of the header's second block (from the midstate) and
// the compression of the 32-byte first hash. What does not depend on the nonce is computed
// once per call (a call covers thousands of nonces):
//  - first hash, rounds 0..3: rounds 0..2 use only W0..W2, and W3 (the nonce) enters round 3
//    only through T1, which is added unchanged to both new a and new e. So the state after
//    round 3 is a per-call constant plus W3 in a and e: one masked vector add per nonce
//    replaces two SHA256RNDS2;
//  - first hash, W4..W15 are padding constants (rounds 4..15 use stored W+K pairs), W16 and
//    W17 do not depend on W3, and several SHA256MSG1/SHA256MSG2 inputs are constants;
//  - second hash, W8..W15 are padding constants (rounds 8..15 use stored W+K pairs);
//  - second hash, only H7 is wanted: H7 = IV7 + h after round 63, and h after round 63 is
//    f after round 61, the F dword of ABEF after the round pair 60-61. Rounds 62-63 and
//    seven of the eight feed-forward adds are never done, and W60..W63 is the last schedule
//    step.
// That leaves 30 + 31 = 61 SHA256RNDS2 per nonce instead of 64.
//
// With version rolling (HeaderWork.versions > 1) the first hash's message words W16..W63 are
// shared by every version of a nonce: computed once (FirstHashWords), loaded by each version's
// rounds (ScanRolled).
//
// SHA256RNDS2 has a latency longer than its issue interval (measured on Sapphire Rapids: 3.3
// TSC ticks latency, one issued every 2.5 ticks), so one hash chain leaves the SHA unit idle;
// kLanes nonces are interleaved to keep it busy. With enough lanes the SHA unit is the
// bottleneck, and the choices below keep other work off it.
#include <immintrin.h>

#include <cstdint>

#include "sha256.h"
#include "sha_ext_body.h"

namespace solominer {
namespace x86_shani {
namespace {

// Nonces in flight. Best-case figures (fewest TSC ticks per nonce over 3000 short trials, one
// run on a 2-core Sapphire Rapids Xeon) favoured more lanes: 2 lanes 167.0, 3 lanes 159.3,
// 4 lanes 156.3, against OpenSSL's SHA-NI code at 219.8 per two compressions. Sustained rates
// on the same machine, scan and OpenSSL alternating in 50 ms slices for 10 s, three runs, say
// otherwise: 2 lanes 1.17x/1.26x/1.25x OpenSSL, 3 lanes 1.17x/1.23x/1.13x, 4 lanes
// 1.21x/0.98x/1.06x. Hashing is sustained, so two lanes it is; kLanes is the only knob.
constexpr int kLanes = 2;
constexpr const char* kDescription = "x86_shani(2way)";  // keep in step with kLanes
// Versions per scan (software AsicBoost, ScanRolled below). Core cycles per hashed header,
// fastest of 300 trials, one thread, Xeon model 207, December 2026, with four versions
// interleaved: K = 1 (two nonces interleaved, each with its own schedule) 201.0, K = 4 201.6,
// K = 8 193.2, K = 16 188.9; three versions interleaved: K = 12 192.4, K = 15 191.4. At
// K = 16 the loop runs at the SHA256RNDS2 bound (61 per hash, one issued every 3.1 cycles):
// sharing the schedule takes its SHA256MSG1/MSG2 off the SHA unit, nothing more is left.
constexpr uint32_t kVersions = 16;

// Four message words as one vector, dword 0 first.
inline __m128i Words(uint32_t w0, uint32_t w1, uint32_t w2, uint32_t w3) {
    return _mm_set_epi32(int(w3), int(w2), int(w1), int(w0));
}
inline __m128i K4(int t) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(kSha256K + t)); }
// Two W+K words for SHA256RNDS2 in the low qword.
inline __m128i Pair(uint32_t wk0, uint32_t wk1) { return _mm_set_epi32(0, 0, int(wk1), int(wk0)); }

// The high qword of v moved to the low qword, for the second SHA256RNDS2 of four rounds: a
// store and an 8-byte reload (forwarded from the store buffer, as the load lies inside the
// store) instead of PSHUFD. This moves one uop per four rounds from the vector ALU ports to
// the otherwise idle load/store ports; measured 2-5% faster per nonce than PSHUFD on
// Sapphire Rapids (2 to 4 lanes). The asm keeps the compiler from folding the round trip
// back into a shuffle.
inline __m128i High(__m128i v) {
#if defined(__GNUC__)
    alignas(16) uint64_t tmp[2];
    _mm_store_si128(reinterpret_cast<__m128i*>(tmp), v);
    __m128i r;
    __asm__("movq %1, %0" : "=x"(r) : "m"(tmp[1]));
    return r;
#else
    return _mm_shuffle_epi32(v, 0x0e);
#endif
}

// Two rounds of one lane.
inline void Round2(__m128i& abef, __m128i& cdgh, __m128i wk) {
    const __m128i next = _mm_sha256rnds2_epu32(cdgh, abef, wk);
    cdgh = abef;
    abef = next;
}
// Four rounds from one vector of W+K.
inline void Round4(__m128i& abef, __m128i& cdgh, __m128i wk) {
    Round2(abef, cdgh, wk);
    Round2(abef, cdgh, High(wk));
}

// Same result as SHA256MSG1(x0, x1) = W[i..i+3] + sigma0(W[i+1..i+4]), with shifts. SHA256MSG1
// occupies the SHA unit that SHA256RNDS2 is bound by: using it for the 18 schedule steps per
// nonce measured 9% slower than these ten plain SSE instructions, which run on idle ports.
inline __m128i Msg1(__m128i x0, __m128i x1) {
    const __m128i y = _mm_alignr_epi8(x1, x0, 4);  // W[i+1..i+4]
    __m128i s = _mm_xor_si128(_mm_srli_epi32(y, 3), _mm_srli_epi32(y, 7));
    s = _mm_xor_si128(s, _mm_srli_epi32(y, 18));
    s = _mm_xor_si128(s, _mm_slli_epi32(y, 25));  // rotr 7 = shr 7 ^ shl 25
    s = _mm_xor_si128(s, _mm_slli_epi32(y, 14));  // rotr 18 = shr 18 ^ shl 14
    return _mm_add_epi32(x0, s);
}

// FIPS 180-4 §6.2.2 step 1 for four words: from W[t-16..t-1] as x0..x3, W[t..t+3] =
// sigma1 part (SHA256MSG2) of (sigma0 part (Msg1) + W[t-7..t-4] (PALIGNR)).
inline __m128i Schedule(__m128i x0, __m128i x1, __m128i x2, __m128i x3) {
    const __m128i t = _mm_add_epi32(Msg1(x0, x1), _mm_alignr_epi8(x3, x2, 4));
    return _mm_sha256msg2_epu32(t, x3);
}

// The steps sha_ext_body.h needs (see there).
struct Ops {
    using V = __m128i;
    static void Round4(V& abef, V& cdgh, V wk) { x86_shani::Round4(abef, cdgh, wk); }
    static V Schedule(V x0, V x1, V x2, V x3) { return x86_shani::Schedule(x0, x1, x2, x3); }
    static V AddK(V x, int t) { return _mm_add_epi32(x, K4(t)); }
    static void ConstStep(V& abef, V& cdgh, V wk) { Round2(abef, cdgh, wk); }
};

// A state in the SHA-NI register layout: ABEF = {F, E, B, A}, CDGH = {H, G, D, C}.
inline void ToAbefCdgh(const uint32_t s[8], __m128i& abef, __m128i& cdgh) {
    abef = _mm_set_epi32(int(s[0]), int(s[1]), int(s[4]), int(s[5]));
    cdgh = _mm_set_epi32(int(s[2]), int(s[3]), int(s[6]), int(s[7]));
}

// Everything a call needs that is the same for every nonce.
struct Precomputed {
    __m128i mid[2];              // midstate (ABEF, CDGH): start of the first hash's second block
    __m128i abef4, cdgh4;        // first hash, state after round 3 with W3 = 0
    __m128i x0;                  // first hash, {W0, W1, W2, 0}
    __m128i wk_first[6];         // first hash, W+K pairs for rounds 4-5 .. 14-15
    __m128i wk16_17;             // first hash, W+K pair for rounds 16-17 (W3-free)
    __m128i c20;                 // first hash, Msg1(W4..7, W8..11) + W13..16: all of W20..23
                                 // but the SHA256MSG2 part
    __m128i m28;                 // first hash, Msg1(W12..15, W16..19): needs only W16
    __m128i wk_second[4];        // second hash, W+K pairs for rounds 8-9 .. 14-15
    __m128i m24_second;          // second hash, Msg1(W8..11, W12..15), all padding
};

void Precompute(const HeaderWork& work, uint32_t version, Precomputed& p) {
    const uint32_t* m = work.midstate[version];
    ToAbefCdgh(m, p.mid[0], p.mid[1]);

    // First hash, second block (FIPS 180-4 §5.1.1 padding of an 80-byte message): W0..W2 =
    // tail, W3 = nonce (left 0 here), W4 = 0x80000000, W5..W14 = 0, W15 = 640 bits.
    uint32_t w[18] = {work.tail[0], work.tail[1], work.tail[2], 0, 0x80000000u};
    w[15] = 80 * 8;
    for (int t = 16; t < 18; ++t) {
        w[t] = SmallSigma1(w[t - 2]) + w[t - 7] + SmallSigma0(w[t - 15]) + w[t - 16];
    }

    // Rounds 0..3 with W3 = 0; the nonce is added to a and e per lane (see the file comment).
    uint32_t st[8];
    for (int i = 0; i < 8; ++i) st[i] = m[i];
    ScalarRounds(st, w, 0, 4);
    ToAbefCdgh(st, p.abef4, p.cdgh4);
    p.x0 = Words(w[0], w[1], w[2], 0);
    for (int i = 0; i < 6; ++i) {
        const int t = 4 + 2 * i;
        p.wk_first[i] = Pair(w[t] + kSha256K[t], w[t + 1] + kSha256K[t + 1]);
    }
    p.wk16_17 = Pair(w[16] + kSha256K[16], w[17] + kSha256K[17]);
    p.c20 = _mm_add_epi32(Msg1(Words(w[4], w[5], w[6], w[7]), Words(w[8], w[9], w[10], w[11])),
                          Words(w[13], w[14], w[15], w[16]));
    p.m28 = Msg1(Words(w[12], w[13], w[14], w[15]), Words(w[16], 0, 0, 0));

    // Second hash (padding of a 32-byte message): W0..W7 = first hash, W8 = 0x80000000,
    // W9..W14 = 0, W15 = 256 bits.
    uint32_t v[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0x80000000u};
    v[15] = 32 * 8;
    for (int i = 0; i < 4; ++i) {
        const int t = 8 + 2 * i;
        p.wk_second[i] = Pair(v[t] + kSha256K[t], v[t + 1] + kSha256K[t + 1]);
    }
    p.m24_second = Msg1(Words(v[8], v[9], v[10], v[11]), Words(v[12], v[13], v[14], v[15]));
}


// The second hash of kL lanes whose first hash ended in abef/cdgh (before the feed-forward,
// which is mid_abef/mid_cdgh: a lane's own midstate), rounds 0..61; h7 of each lane out.
template <int kL>
inline __attribute__((always_inline)) void SecondHash(__m128i (&abef)[kL], __m128i (&cdgh)[kL],
                                                      const __m128i* const (&mid)[kL],
                                                      const Precomputed& p, uint32_t (&h7)[kL]) {
    const __m128i iv_abef = _mm_set_epi32(int(kSha256Init[0]), int(kSha256Init[1]),
                                          int(kSha256Init[4]), int(kSha256Init[5]));
    const __m128i iv_cdgh = _mm_set_epi32(int(kSha256Init[2]), int(kSha256Init[3]),
                                          int(kSha256Init[6]), int(kSha256Init[7]));
    const __m128i kY2 = Words(0x80000000u, 0, 0, 0);  // second hash W8..W11
    const __m128i kY3 = Words(0, 0, 0, 32 * 8);       // second hash W12..W15
    __m128i x[kL][4];
#pragma GCC unroll 8
    for (int l = 0; l < kL; ++l) {
        const __m128i h_abef = _mm_add_epi32(abef[l], mid[l][0]);
        const __m128i h_cdgh = _mm_add_epi32(cdgh[l], mid[l][1]);
        // {A, B, C, D} and {E, F, G, H} in message order, one SHUFPS each.
        x[l][0] = _mm_castps_si128(_mm_shuffle_ps(_mm_castsi128_ps(h_abef),
                                                  _mm_castsi128_ps(h_cdgh), 0xbb));
        x[l][1] = _mm_castps_si128(_mm_shuffle_ps(_mm_castsi128_ps(h_abef),
                                                  _mm_castsi128_ps(h_cdgh), 0x11));
        abef[l] = iv_abef;
        cdgh[l] = iv_cdgh;
        Round4(abef[l], cdgh[l], _mm_add_epi32(x[l][0], K4(0)));
        Round4(abef[l], cdgh[l], _mm_add_epi32(x[l][1], K4(4)));
    }
    sha_ext::ConstSteps<Ops, kL>(abef, cdgh, p.wk_second);
#pragma GCC unroll 8
    for (int l = 0; l < kL; ++l) {
        // W16..19: the W[t-7] term (W9..12) is zero.
        x[l][2] = _mm_sha256msg2_epu32(_mm_sha256msg1_epu32(x[l][0], x[l][1]), kY3);
        Round4(abef[l], cdgh[l], _mm_add_epi32(x[l][2], K4(16)));
        x[l][3] = Schedule(x[l][1], kY2, kY3, x[l][2]);  // W20..23
        Round4(abef[l], cdgh[l], _mm_add_epi32(x[l][3], K4(20)));
        // W24..27: the Msg1 part is the constant m24_second.
        x[l][0] = _mm_sha256msg2_epu32(
            _mm_add_epi32(p.m24_second, _mm_alignr_epi8(x[l][3], x[l][2], 4)), x[l][3]);
        Round4(abef[l], cdgh[l], _mm_add_epi32(x[l][0], K4(24)));
        x[l][1] = Schedule(kY3, x[l][2], x[l][3], x[l][0]);  // W28..31
        Round4(abef[l], cdgh[l], _mm_add_epi32(x[l][1], K4(28)));
    }
    // W32..W59; here x[l][(g + 2) & 3] holds W[4g-16..4g-13] before step g.
    sha_ext::ScheduleGroups<Ops, kL, 8, 15, 2>(abef, cdgh, x);
    // W60 (W61 only feeds A and E of the result, which are not used) and rounds 60-61.
#pragma GCC unroll 8
    for (int l = 0; l < kL; ++l) {
        const int i = (15 + 2) & 3;
        const __m128i w60 =
            Schedule(x[l][i], x[l][(i + 1) & 3], x[l][(i + 2) & 3], x[l][(i + 3) & 3]);
        const __m128i abef62 = _mm_sha256rnds2_epu32(cdgh[l], abef[l], _mm_add_epi32(w60, K4(60)));
        // F after round 61 = h after round 63.
        h7[l] = uint32_t(_mm_cvtsi128_si32(abef62)) + kSha256Init[7];
    }
}

// One version (K = 1): kLanes nonces interleaved, each with its own schedule; as before
// version rolling, and what npm run bench compares the rolling formulation with.
uint32_t ScanOne(const HeaderWork& work, uint32_t first, uint32_t count, uint32_t max_top_word,
                 ScanHit* hits) {
    Precomputed p;
    Precompute(work, 0, p);
    const __m128i x1 = Words(0x80000000u, 0, 0, 0);  // first hash W4..W7
    const __m128i x3 = Words(0, 0, 0, 80 * 8);       // first hash W12..W15
    const __m128i ae_mask = _mm_set_epi32(-1, 0, -1, 0);  // the A and E dwords of ABEF
    const __m128i* mid[kLanes];
    for (int l = 0; l < kLanes; ++l) mid[l] = p.mid;

    // Each step below is written once per lane in a loop the compiler unrolls, so the
    // independent lanes' instructions come interleaved. x[l] is a ring of the last four
    // message vectors of lane l.
    uint32_t found = 0;
    for (uint32_t base = 0; base < count; base += kLanes) {
        __m128i abef[kLanes], cdgh[kLanes], x[kLanes][4];

        // ---- First hash: rounds 4..63 of the header's second block. ----
#pragma GCC unroll 8
        for (int l = 0; l < kLanes; ++l) {
            // W3 is the nonce read as a big-endian word (the header stores it little-endian).
            const uint64_t w3 = Bswap32(first + base + uint32_t(l));
            const __m128i n = _mm_cvtsi64_si128(int64_t(w3 << 32 | w3));
            const __m128i n4 = _mm_unpacklo_epi64(n, n);  // W3 in every dword
            abef[l] = _mm_add_epi32(p.abef4, _mm_and_si128(n4, ae_mask));
            cdgh[l] = p.cdgh4;
            x[l][0] = _mm_blend_epi16(p.x0, n4, 0xc0);  // {W0, W1, W2, W3}
        }
        sha_ext::ConstSteps<Ops, kLanes>(abef, cdgh, p.wk_first);
#pragma GCC unroll 8
        for (int l = 0; l < kLanes; ++l) {
            // W16..19: the W[t-7] term (W9..12) is zero. One SHA256MSG1 per hash is cheap
            // enough to keep (see Msg1).
            x[l][0] = _mm_sha256msg2_epu32(_mm_sha256msg1_epu32(x[l][0], x1), x3);
            Round2(abef[l], cdgh[l], p.wk16_17);
            Round2(abef[l], cdgh[l], High(_mm_add_epi32(x[l][0], K4(16))));
            // W20..23: only the SHA256MSG2 part depends on the nonce.
            x[l][1] = _mm_sha256msg2_epu32(p.c20, x[l][0]);
            Round4(abef[l], cdgh[l], _mm_add_epi32(x[l][1], K4(20)));
            // W24..27: Msg1(W8..11, W12..15) is zero.
            x[l][2] = _mm_sha256msg2_epu32(_mm_alignr_epi8(x[l][1], x[l][0], 4), x[l][1]);
            Round4(abef[l], cdgh[l], _mm_add_epi32(x[l][2], K4(24)));
            // W28..31: the Msg1 part is the constant m28.
            x[l][3] = _mm_sha256msg2_epu32(
                _mm_add_epi32(p.m28, _mm_alignr_epi8(x[l][2], x[l][1], 4)), x[l][2]);
            Round4(abef[l], cdgh[l], _mm_add_epi32(x[l][3], K4(28)));
        }
        // W32..W63: the general schedule; x[l][g & 3] holds W[4g-16..4g-13] before step g.
        sha_ext::ScheduleGroups<Ops, kLanes, 8, 16>(abef, cdgh, x);

        // ---- Second hash. ----
        uint32_t h7[kLanes];
        SecondHash<kLanes>(abef, cdgh, mid, p, h7);
#pragma GCC unroll 8
        for (int l = 0; l < kLanes; ++l) {
            // Branch-free: every nonce is written, and kept only if it qualifies;
            // found <= base + l < count, so the write stays inside hits.
            hits[found] = {first + base + uint32_t(l), 0};
            found += Bswap32(h7[l]) <= max_top_word ? 1u : 0u;
        }
    }
    return found;
}

// ---- Version rolling: one schedule, K midstates. ----
// The first hash's message (W0..W2, the nonce W3, padding) is the same for every version, so
// W16..W63 + K are computed once per nonce into wk (SHA256MSG1/MSG2 work and the adds) and
// every version's rounds only load them. The interleaved chains are versions of one nonce
// instead of nonces: kLanes versions side by side, so the SHA unit stays as busy as before.
// Versions in flight (interleaved chains): four keep the SHA unit busier than two or three
// (figures at kVersions above).
constexpr int kVersionLanes = 4;
struct alignas(16) NonceWords {
    uint32_t wk[16][4];  // group g (g = 4..15): W[4g..4g+3] + K[4g..4g+3]
};

inline void FirstHashWords(const Precomputed& p, __m128i n4, NonceWords& out) {
    const __m128i x1 = Words(0x80000000u, 0, 0, 0);  // first hash W4..W7
    const __m128i x3 = Words(0, 0, 0, 80 * 8);       // first hash W12..W15
    __m128i x[4];
    x[0] = _mm_blend_epi16(p.x0, n4, 0xc0);  // {W0, W1, W2, W3}
    // W16..19 (the W[t-7] term, W9..12, is zero), W20..23 (only SHA256MSG2 depends on the
    // nonce), W24..27 (Msg1(W8..11, W12..15) is zero), W28..31 (Msg1 part is m28).
    x[0] = _mm_sha256msg2_epu32(_mm_sha256msg1_epu32(x[0], x1), x3);
    x[1] = _mm_sha256msg2_epu32(p.c20, x[0]);
    x[2] = _mm_sha256msg2_epu32(_mm_alignr_epi8(x[1], x[0], 4), x[1]);
    x[3] = _mm_sha256msg2_epu32(_mm_add_epi32(p.m28, _mm_alignr_epi8(x[2], x[1], 4)), x[2]);
    for (int g = 4; g < 8; ++g) {
        _mm_store_si128(reinterpret_cast<__m128i*>(out.wk[g]), _mm_add_epi32(x[g & 3], K4(4 * g)));
    }
#pragma GCC unroll 8
    for (int g = 8; g < 16; ++g) {
        const int i = g & 3;
        x[i] = Schedule(x[i], x[(i + 1) & 3], x[(i + 2) & 3], x[(i + 3) & 3]);
        _mm_store_si128(reinterpret_cast<__m128i*>(out.wk[g]), _mm_add_epi32(x[i], K4(4 * g)));
    }
}

// The low and the high two W+K of a stored group, each in the low qword for SHA256RNDS2.
inline __m128i WkLow(const NonceWords& n, int g) {
    return _mm_load_si128(reinterpret_cast<const __m128i*>(n.wk[g]));
}
inline __m128i WkHigh(const NonceWords& n, int g) {
    return _mm_loadl_epi64(reinterpret_cast<const __m128i*>(n.wk[g] + 2));
}

// kL versions (v0, v0 + 1, ...) of one nonce: both hashes, hits recorded.
template <int kL>
inline __attribute__((always_inline)) void RolledVersions(const Precomputed* pv, uint32_t v0,
                                                          const NonceWords& words, __m128i ae3,
                                                          uint32_t nonce, uint32_t max_top_word,
                                                          ScanHit* hits, uint32_t& found) {
    __m128i abef[kL], cdgh[kL];
    const __m128i* mid[kL];
#pragma GCC unroll 8
    for (int l = 0; l < kL; ++l) {
        abef[l] = _mm_add_epi32(pv[v0 + l].abef4, ae3);
        cdgh[l] = pv[v0 + l].cdgh4;
        mid[l] = pv[v0 + l].mid;
    }
    sha_ext::ConstSteps<Ops, kL>(abef, cdgh, pv[0].wk_first);
#pragma GCC unroll 8
    for (int l = 0; l < kL; ++l) {
        Round2(abef[l], cdgh[l], pv[0].wk16_17);
        Round2(abef[l], cdgh[l], WkHigh(words, 4));
    }
#pragma GCC unroll 12
    for (int g = 5; g < 16; ++g) {
#pragma GCC unroll 8
        for (int l = 0; l < kL; ++l) {
            Round2(abef[l], cdgh[l], WkLow(words, g));
            Round2(abef[l], cdgh[l], WkHigh(words, g));
        }
    }
    uint32_t h7[kL];
    SecondHash<kL>(abef, cdgh, mid, pv[0], h7);
#pragma GCC unroll 8
    for (int l = 0; l < kL; ++l) {
        // Branch-free, as in ScanOne: found < (nonces so far) * K + v0 + l + 1.
        hits[found] = {nonce, v0 + uint32_t(l)};
        found += Bswap32(h7[l]) <= max_top_word ? 1u : 0u;
    }
}

uint32_t ScanRolled(const HeaderWork& work, uint32_t first, uint32_t count, uint32_t max_top_word,
                    ScanHit* hits) {
    Precomputed pv[kMaxVersions];
    const uint32_t versions = work.versions;
    for (uint32_t v = 0; v < versions; ++v) Precompute(work, v, pv[v]);
    const __m128i ae_mask = _mm_set_epi32(-1, 0, -1, 0);  // the A and E dwords of ABEF
    NonceWords words;
    uint32_t found = 0;
    for (uint32_t i = 0; i < count; ++i) {
        const uint32_t nonce = first + i;
        const uint64_t w3 = Bswap32(nonce);
        const __m128i n = _mm_cvtsi64_si128(int64_t(w3 << 32 | w3));
        const __m128i n4 = _mm_unpacklo_epi64(n, n);  // W3 in every dword
        FirstHashWords(pv[0], n4, words);
        // Round 3 adds W3 to a and e of every version alike (see the file comment).
        const __m128i ae3 = _mm_and_si128(n4, ae_mask);
        uint32_t v = 0;
        for (; v + kVersionLanes <= versions; v += kVersionLanes) {
            RolledVersions<kVersionLanes>(pv, v, words, ae3, nonce, max_top_word, hits, found);
        }
        for (; v < versions; ++v) {
            RolledVersions<1>(pv, v, words, ae3, nonce, max_top_word, hits, found);
        }
    }
    return found;
}

uint32_t Scan(const HeaderWork& work, uint32_t first, uint32_t count, uint32_t max_top_word,
              ScanHit* hits) {
    return work.versions == 1 ? ScanOne(work, first, count, max_top_word, hits)
                              : ScanRolled(work, first, count, max_top_word, hits);
}

}  // namespace

// One plain compression (FIPS 180-4 §6.2.2) with the same helpers as the scanner: for the
// merkle trees of new templates (native/merkle.cpp), where thousands of 64-byte nodes are
// hashed at once and the scalar compression would be the slowest step.
void Compress(uint32_t state[8], const uint8_t block[64]) {
    const __m128i bswap = _mm_set_epi8(12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3);
    __m128i abef[1], cdgh[1];
    ToAbefCdgh(state, abef[0], cdgh[0]);
    const __m128i abef0 = abef[0], cdgh0 = cdgh[0];
    __m128i x[1][4];
    for (int i = 0; i < 4; ++i) {
        x[0][i] = _mm_shuffle_epi8(
            _mm_loadu_si128(reinterpret_cast<const __m128i*>(block + 16 * i)), bswap);
        Round4(abef[0], cdgh[0], _mm_add_epi32(x[0][i], K4(4 * i)));
    }
    // x is a ring of the last four message vectors: group g replaces group g-4.
    sha_ext::ScheduleGroups<Ops, 1, 4, 16>(abef, cdgh, x);
    alignas(16) uint32_t ab[4], cd[4];  // dwords 3..0: A B E F and C D G H
    _mm_store_si128(reinterpret_cast<__m128i*>(ab), _mm_add_epi32(abef[0], abef0));
    _mm_store_si128(reinterpret_cast<__m128i*>(cd), _mm_add_epi32(cdgh[0], cdgh0));
    const uint32_t from_ab[4] = {5, 4, 1, 0}, from_cd[4] = {7, 6, 3, 2};
    for (int i = 0; i < 4; ++i) {
        state[from_ab[i]] = ab[i];
        state[from_cd[i]] = cd[i];
    }
}

const Backend kBackend = {"x86_shani", kDescription, kLanes, kVersions, Scan};

}  // namespace x86_shani
}  // namespace solominer

// SHA-256d nonce scan with the ARMv8 Cryptography Extension: SHA256H, SHA256H2, SHA256SU0 and
// SHA256SU1 (Arm ARM, "SHA256 hash update" and "SHA256 schedule update"), through the ACLE
// intrinsics of <arm_neon.h>; the hash itself is FIPS 180-4 §6.2. Compiled with
// -march=armv8-a+crypto only, and used when the kernel reports HWCAP_SHA2.
//
// Register layout: one state is two vectors, ABCD = {A, B, C, D} and EFGH = {E, F, G, H}
// (lane 0 first), and message vectors hold W[t..t+3] in lane order, so the first hash's state
// is the second hash's message with no shuffling. Four rounds are
//   ABCD' = SHA256H(ABCD, EFGH, WK) and EFGH' = SHA256H2(EFGH, ABCD, WK),
// with WK = W[t..t+3] + K[t..t+3]; both read the old ABCD, so it is copied once per four
// rounds. W[t..t+3] = SHA256SU1(SHA256SU0(W[t-16..], W[t-12..]), W[t-8..], W[t-4..]).
//
// Per nonce the work is the compression of the header's second block (from the midstate) and
// the compression of the 32-byte first hash. What does not depend on the nonce is computed
// once per call (a call covers thousands of nonces), as in x86_shani.cpp:
//  - first hash, rounds 0..3: rounds 0..2 use only W0..W2, and W3 (the nonce) enters round 3
//    only through T1, which is added unchanged to both new a and new e. So the state after
//    round 3 is a per-call constant plus W3 in lane 0 of ABCD (a) and lane 0 of EFGH (e): one
//    vector {W3, 0, 0, 0} and two adds replace a SHA256H/SHA256H2 pair;
//  - first hash, W4..W15 are padding constants (rounds 4..15 use stored W+K vectors), and of
//    the schedule steps up to W28..31 the SHA256SU0 parts are constants (W24..27's is zero);
//  - second hash, W8..W15 are padding constants (rounds 8..15 use stored W+K vectors) and the
//    SHA256SU0 part of W24..27 is a constant;
//  - second hash, only H7 is wanted: H7 = IV7 + h after round 63, the H lane of the EFGH that
//    SHA256H2 returns for rounds 60..63; that SHA256H and the feed-forward adds are not done.
// That leaves 15 + 15 four-round SHA256H (first hash rounds 4..63, second hash rounds 0..59)
// and 15 + 16 SHA256H2 per nonce, with 12 + 12 schedule steps (20 SHA256SU0, 24 SHA256SU1).
//
// SHA256H/SHA256H2 take several cycles each and every four rounds depend on the previous
// four, so one hash chain leaves the crypto pipe mostly idle; kLanes independent nonces are
// interleaved (each step is written once per lane in a loop the compiler unrolls).
#include <arm_neon.h>

#include <cstdint>

#include "sha256.h"
#include "sha_ext_body.h"

namespace solominer {
namespace arm_sha2 {
namespace {

// Nonces in flight. Not measured on hardware (none was at hand), so chosen from the shape of
// the code: each lane issues about 3.5 crypto instructions (SHA256H, SHA256H2 and on average
// 1.5 schedule updates) per four-round step, whose latency is one SHA256H. Two lanes already
// fill a single crypto pipe issuing one per cycle at a latency up to about 7 cycles; three
// leave room for cores with two such pipes or a longer latency. Four do not fit the 32 vector
// registers (six live vectors per lane plus copies and constants): GCC 12 spills lane state
// to the stack inside the loop, where three lanes only reload loop constants.
constexpr int kLanes = 3;
constexpr const char* kDescription = "arm_sha2(3way)";  // keep in step with kLanes

// Four message words as one vector, lane 0 first.
inline uint32x4_t Words(uint32_t w0, uint32_t w1, uint32_t w2, uint32_t w3) {
    const uint32_t v[4] = {w0, w1, w2, w3};
    return vld1q_u32(v);
}
inline uint32x4_t K4(int t) { return vld1q_u32(kSha256K + t); }

// Four rounds of one lane.
inline void Round4(uint32x4_t& abcd, uint32x4_t& efgh, uint32x4_t wk) {
    const uint32x4_t abcd0 = abcd;
    abcd = vsha256hq_u32(abcd0, efgh, wk);
    efgh = vsha256h2q_u32(efgh, abcd0, wk);
}

// FIPS 180-4 §6.2.2 step 1 for four words: W[t..t+3] from W[t-16..t-1] as x0..x3.
inline uint32x4_t Schedule(uint32x4_t x0, uint32x4_t x1, uint32x4_t x2, uint32x4_t x3) {
    return vsha256su1q_u32(vsha256su0q_u32(x0, x1), x2, x3);
}

// The steps sha_ext_body.h needs (see there).
struct Ops {
    using V = uint32x4_t;
    static void Round4(V& abcd, V& efgh, V wk) { arm_sha2::Round4(abcd, efgh, wk); }
    static V Schedule(V x0, V x1, V x2, V x3) { return arm_sha2::Schedule(x0, x1, x2, x3); }
    static V AddK(V x, int t) { return vaddq_u32(x, K4(t)); }
    static void ConstStep(V& abcd, V& efgh, V wk) { arm_sha2::Round4(abcd, efgh, wk); }
};

// Everything a call needs that is the same for every nonce.
struct Precomputed {
    uint32x4_t mid_abcd, mid_efgh;  // midstate: start of the first hash's second block
    uint32x4_t abcd4, efgh4;        // first hash, state after round 3 with W3 = 0
    uint32x4_t x0_shifted;          // first hash, {0, W0, W1, W2}: EXT with {W3, ...} gives W0..3
    uint32x4_t wk_first[3];         // first hash, W+K for rounds 4-7, 8-11, 12-15
    uint32x4_t s20;                 // first hash, SU0(W4..7, W8..11)
    uint32x4_t s28;                 // first hash, SU0(W12..15, W16..19): needs only W16
    uint32x4_t wk_second[2];        // second hash, W+K for rounds 8-11, 12-15
    uint32x4_t s24_second;          // second hash, SU0(W8..11, W12..15), all padding
};

void Precompute(const HeaderWork& work, uint32_t version, Precomputed& p) {
    const uint32_t* m = work.midstate[version];
    p.mid_abcd = Words(m[0], m[1], m[2], m[3]);
    p.mid_efgh = Words(m[4], m[5], m[6], m[7]);

    // First hash, second block (FIPS 180-4 §5.1.1 padding of an 80-byte message): W0..W2 =
    // tail, W3 = nonce (left 0 here), W4 = 0x80000000, W5..W14 = 0, W15 = 640 bits.
    const uint32x4_t x0 = Words(work.tail[0], work.tail[1], work.tail[2], 0);
    const uint32x4_t x1 = Words(0x80000000u, 0, 0, 0);
    const uint32x4_t x2 = vdupq_n_u32(0);
    const uint32x4_t x3 = Words(0, 0, 0, 80 * 8);

    // Rounds 0..3 with W3 = 0; the nonce is added to a and e per lane (see the file comment).
    p.abcd4 = p.mid_abcd;
    p.efgh4 = p.mid_efgh;
    Round4(p.abcd4, p.efgh4, vaddq_u32(x0, K4(0)));
    p.x0_shifted = vextq_u32(x2, x0, 3);
    p.wk_first[0] = vaddq_u32(x1, K4(4));
    p.wk_first[1] = vaddq_u32(x2, K4(8));
    p.wk_first[2] = vaddq_u32(x3, K4(12));
    p.s20 = vsha256su0q_u32(x1, x2);
    // W16 does not depend on W3 (it is sigma1(W14) + W9 + sigma0(W1) + W0); SU0(W12..15,
    // W16..19) reads only lane 0 of its second operand.
    const uint32x4_t w16 = Schedule(x0, x1, x2, x3);  // lane 0 = W16; lanes 2, 3 wrong (W3 = 0)
    p.s28 = vsha256su0q_u32(x3, vsetq_lane_u32(0, vsetq_lane_u32(0, w16, 2), 3));

    // Second hash (padding of a 32-byte message): W0..W7 = first hash, W8 = 0x80000000,
    // W9..W14 = 0, W15 = 256 bits.
    const uint32x4_t y2 = Words(0x80000000u, 0, 0, 0);
    const uint32x4_t y3 = Words(0, 0, 0, 32 * 8);
    p.wk_second[0] = vaddq_u32(y2, K4(8));
    p.wk_second[1] = vaddq_u32(y3, K4(12));
    p.s24_second = vsha256su0q_u32(y2, y3);
}

// One version's scan: hits are written with version index `version`.
uint32_t ScanVersion(const HeaderWork& work, uint32_t version, uint32_t first, uint32_t count,
                     uint32_t max_top_word, ScanHit* hits) {
    Precomputed p;
    Precompute(work, version, p);
    const uint32x4_t x1 = Words(0x80000000u, 0, 0, 0);  // first hash W4..W7
    const uint32x4_t x2 = vdupq_n_u32(0);                // first hash W8..W11
    const uint32x4_t x3 = Words(0, 0, 0, 80 * 8);        // first hash W12..W15
    const uint32x4_t y2 = Words(0x80000000u, 0, 0, 0);  // second hash W8..W11
    const uint32x4_t y3 = Words(0, 0, 0, 32 * 8);        // second hash W12..W15
    const uint32x4_t iv_abcd = vld1q_u32(kSha256Init);
    const uint32x4_t iv_efgh = vld1q_u32(kSha256Init + 4);

    // x[l] is a ring of the last four message vectors of lane l.
    uint32_t found = 0;
    for (uint32_t base = 0; base < count; base += kLanes) {
        uint32x4_t abcd[kLanes], efgh[kLanes], x[kLanes][4];

        // ---- First hash: rounds 4..63 of the header's second block. ----
#pragma GCC unroll 8
        for (int l = 0; l < kLanes; ++l) {
            // W3 is the nonce read as a big-endian word (the header stores it little-endian).
            // {W3, 0, 0, 0}: one FMOV from the general register, which zeroes the rest.
            const uint32x4_t n = vcombine_u32(
                vcreate_u32(uint64_t(Bswap32(first + base + uint32_t(l)))), vdup_n_u32(0));
            abcd[l] = vaddq_u32(p.abcd4, n);
            efgh[l] = vaddq_u32(p.efgh4, n);
            x[l][0] = vextq_u32(p.x0_shifted, n, 1);  // {W0, W1, W2, W3}
        }
        sha_ext::ConstSteps<Ops, kLanes>(abcd, efgh, p.wk_first);
#pragma GCC unroll 8
        for (int l = 0; l < kLanes; ++l) {
            x[l][0] = Schedule(x[l][0], x1, x2, x3);                   // W16..19
            Round4(abcd[l], efgh[l], vaddq_u32(x[l][0], K4(16)));
        }
#pragma GCC unroll 8
        for (int l = 0; l < kLanes; ++l) {
            x[l][1] = vsha256su1q_u32(p.s20, x3, x[l][0]);             // W20..23
            Round4(abcd[l], efgh[l], vaddq_u32(x[l][1], K4(20)));
        }
#pragma GCC unroll 8
        for (int l = 0; l < kLanes; ++l) {
            x[l][2] = vsha256su1q_u32(x2, x[l][0], x[l][1]);           // W24..27: SU0 part 0
            Round4(abcd[l], efgh[l], vaddq_u32(x[l][2], K4(24)));
        }
#pragma GCC unroll 8
        for (int l = 0; l < kLanes; ++l) {
            x[l][3] = vsha256su1q_u32(p.s28, x[l][1], x[l][2]);        // W28..31
            Round4(abcd[l], efgh[l], vaddq_u32(x[l][3], K4(28)));
        }
        // W32..W63: the general schedule; x[l][g & 3] holds W[4g-16..4g-13] before step g.
        sha_ext::ScheduleGroups<Ops, kLanes, 8, 16>(abcd, efgh, x);

        // ---- Second hash: W0..W7 = first hash (feed-forward added), rounds 0..63. ----
#pragma GCC unroll 8
        for (int l = 0; l < kLanes; ++l) {
            x[l][0] = vaddq_u32(abcd[l], p.mid_abcd);  // W0..3
            x[l][1] = vaddq_u32(efgh[l], p.mid_efgh);  // W4..7
            abcd[l] = iv_abcd;
            efgh[l] = iv_efgh;
            Round4(abcd[l], efgh[l], vaddq_u32(x[l][0], K4(0)));
        }
#pragma GCC unroll 8
        for (int l = 0; l < kLanes; ++l) Round4(abcd[l], efgh[l], vaddq_u32(x[l][1], K4(4)));
        sha_ext::ConstSteps<Ops, kLanes>(abcd, efgh, p.wk_second);
#pragma GCC unroll 8
        for (int l = 0; l < kLanes; ++l) {
            x[l][0] = Schedule(x[l][0], x[l][1], y2, y3);              // W16..19
            Round4(abcd[l], efgh[l], vaddq_u32(x[l][0], K4(16)));
        }
#pragma GCC unroll 8
        for (int l = 0; l < kLanes; ++l) {
            x[l][1] = Schedule(x[l][1], y2, y3, x[l][0]);              // W20..23
            Round4(abcd[l], efgh[l], vaddq_u32(x[l][1], K4(20)));
        }
#pragma GCC unroll 8
        for (int l = 0; l < kLanes; ++l) {
            x[l][2] = vsha256su1q_u32(p.s24_second, x[l][0], x[l][1]);  // W24..27
            Round4(abcd[l], efgh[l], vaddq_u32(x[l][2], K4(24)));
        }
#pragma GCC unroll 8
        for (int l = 0; l < kLanes; ++l) {
            x[l][3] = Schedule(y3, x[l][0], x[l][1], x[l][2]);         // W28..31
            Round4(abcd[l], efgh[l], vaddq_u32(x[l][3], K4(28)));
        }
        // W32..W59: as in the first hash, x[l][g & 3] holds W[4g-16..4g-13] before step g.
        sha_ext::ScheduleGroups<Ops, kLanes, 8, 15>(abcd, efgh, x);
        // W60..63 and rounds 60..63, EFGH half only: its lane 3 is h after round 63.
#pragma GCC unroll 8
        for (int l = 0; l < kLanes; ++l) {
            const uint32x4_t w60 = Schedule(x[l][3], x[l][0], x[l][1], x[l][2]);
            const uint32x4_t efgh64 =
                vsha256h2q_u32(efgh[l], abcd[l], vaddq_u32(w60, K4(60)));
            const uint32_t h7 = vgetq_lane_u32(efgh64, 3) + kSha256Init[7];
            // Branch-free: every nonce is written, and kept only if it qualifies;
            // found <= base + l < count, so the write stays inside hits.
            hits[found] = {first + base + uint32_t(l), version};
            found += Bswap32(h7) <= max_top_word ? 1u : 0u;
        }
    }
    return found;
}

// Every version in turn, each a full scan of its own: nothing is shared between versions.
uint32_t Scan(const HeaderWork& work, uint32_t first, uint32_t count, uint32_t max_top_word,
              ScanHit* hits) {
    uint32_t found = 0;
    for (uint32_t v = 0; v < work.versions; ++v) {
        found += ScanVersion(work, v, first, count, max_top_word, hits + found);
    }
    return found;
}

}  // namespace

const Backend kBackend = {"arm_sha2", kDescription, kLanes, 1, Scan};

}  // namespace arm_sha2
}  // namespace solominer

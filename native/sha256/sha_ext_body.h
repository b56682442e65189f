// Steps shared by the back ends built on SHA-256 instructions (x86_shani.cpp: SHA-NI,
// arm_sha2.cpp: the ARMv8 Cryptography Extension). Both hold a state as two 4-word vectors
// (s0, s1: ABEF/CDGH on x86, ABCD/EFGH on ARM), the message as a ring of the last four
// 4-word vectors, and interleave kLanes independent nonces; what differs is only how one
// step is done, which the Ops struct of each file says:
//   using V;                                   a 4-word vector
//   static void Round4(V& s0, V& s1, V wk);    four rounds, W+K in wk
//   static V Schedule(V x0, V x1, V x2, V x3); W[t..t+3] from W[t-16..t-1] (§6.2.2 step 1)
//   static V AddK(V x, int t);                 x + K[t..t+3]
//   static void ConstStep(V& s0, V& s1, V wk); the rounds of one stored W+K vector
// Included by files compiled with different instruction-set flags: everything here is a
// template over the including file's Ops, which has internal linkage, so each file gets
// its own copy.
#pragma once

namespace solominer {
namespace sha_ext {

// Groups g = kFirst..kEnd-1 of four rounds with the general schedule, for every lane; before
// group g, x[l][(g + kRing) & 3] holds W[4g-16..4g-13] of lane l (the ring's phase depends on
// which vector the caller filled first).
template <class Ops, int kLanes, int kFirst, int kEnd, int kRing = 0>
inline __attribute__((always_inline)) void ScheduleGroups(typename Ops::V (&s0)[kLanes],
                                                          typename Ops::V (&s1)[kLanes],
                                                          typename Ops::V (&x)[kLanes][4]) {
#pragma GCC unroll 16
    for (int g = kFirst; g < kEnd; ++g) {
#pragma GCC unroll 8
        for (int l = 0; l < kLanes; ++l) {
            const int i = (g + kRing) & 3;
            x[l][i] = Ops::Schedule(x[l][i], x[l][(i + 1) & 3], x[l][(i + 2) & 3],
                                    x[l][(i + 3) & 3]);
            Ops::Round4(s0[l], s1[l], Ops::AddK(x[l][i], 4 * g));
        }
    }
}

// kCount steps whose W+K are the same for every nonce (padding words), stored in wk.
template <class Ops, int kLanes, int kCount>
inline __attribute__((always_inline)) void ConstSteps(typename Ops::V (&s0)[kLanes],
                                                      typename Ops::V (&s1)[kLanes],
                                                      const typename Ops::V (&wk)[kCount]) {
#pragma GCC unroll 8
    for (int i = 0; i < kCount; ++i) {
#pragma GCC unroll 8
        for (int l = 0; l < kLanes; ++l) Ops::ConstStep(s0[l], s1[l], wk[i]);
    }
}

}  // namespace sha_ext
}  // namespace solominer

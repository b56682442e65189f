// 16-way AVX-512 back end: sixteen nonces hashed side by side, one per 32-bit lane of a zmm
// register. The loop itself is vector_body.h; this file says how each of its operations is
// done with AVX-512 and instantiates it with this file's flags.
//
// Compiled with -mavx512f -mavx512vl (see CMakeLists.txt); only AVX-512F instructions are
// used (vprold, vpternlogd, vpcmpud into a mask), so AVX-512BW is not needed: the two byte
// swaps per 16 nonces are done with two rotations and a bit-select instead of vpshufb.
// The dispatcher checks CPUID before calling kBackend.scan.
//  - Σ/σ are three rotations/shifts and one 3-input XOR (vpternlogd 0x96); Ch and Maj are a
//    single vpternlogd each (0xCA and 0xE8).
#if defined(SOLOMINER_HAVE_AVX512)

// GCC 12 reports a false -Wmaybe-uninitialized inside the rotate intrinsics (they start
// from _mm512_undefined_epi32(); GCC bug 105593, fixed in later releases).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

#include <cstdint>

#include "sha256.h"
#include "vector_body.h"

namespace solominer {
namespace avx512 {
namespace {

#define SOLOMINER_INLINE static inline __attribute__((always_inline))

struct Avx512 {
    using V = __m512i;
    static constexpr uint32_t kLanes = 16;

    // Version rolling (vector_body.h ScanRolled): two versions' rounds side by side, hash 2
    // rounds 41..56 rolled. Core cycles per hashed header at K = 16, fastest of 300 trials, Xeon
    // model 207: one version at a time 82.5 (hash 2 from round 33 rolled) / 81.7 (unrolled);
    // pairs 79.7 (from 33), 78.8 (from 41 or 49), 78.9 (unrolled); pairs with hash 1 unrolled
    // 96.7 (a loop body about twice as large).
    static constexpr bool kVersionPairs = true;
    static constexpr int kRolledHash2 = 41;

    SOLOMINER_INLINE V Set(uint32_t x) { return _mm512_set1_epi32(int(x)); }
    SOLOMINER_INLINE V Add(V a, V b) { return _mm512_add_epi32(a, b); }
    SOLOMINER_INLINE V Xor3(V a, V b, V c) { return _mm512_ternarylogic_epi32(a, b, c, 0x96); }
    // ROTR^a ⊕ ROTR^b ⊕ ROTR^c (Σ0, Σ1): vprold for ROTR, one vpternlogd for the XORs.
    template <int a, int b, int c>
    SOLOMINER_INLINE V Sigma(V x) {
        return Xor3(_mm512_ror_epi32(x, a), _mm512_ror_epi32(x, b), _mm512_ror_epi32(x, c));
    }
    // ROTR^a ⊕ ROTR^b ⊕ SHR^s (σ0, σ1).
    template <int a, int b, int s>
    SOLOMINER_INLINE V SigmaShr(V x) {
        return Xor3(_mm512_ror_epi32(x, a), _mm512_ror_epi32(x, b), _mm512_srli_epi32(x, s));
    }
    // Ch(x,y,z) = (x∧y)⊕(¬x∧z) (4.2): truth table of "x ? y : z" is 0xCA.
    SOLOMINER_INLINE V Ch(V x, V y, V z) { return _mm512_ternarylogic_epi32(x, y, z, 0xCA); }
    // Maj(x,y,z) (4.3): majority of three bits, truth table 0xE8.
    SOLOMINER_INLINE V Maj(V x, V y, V z) { return _mm512_ternarylogic_epi32(x, y, z, 0xE8); }
    // Byte swap of each 32-bit lane with AVX-512F only: bytes 3,1 come from ROTR 8 and bytes
    // 2,0 from ROTL 8; the mask 0xff00ff00 picks between them (vpternlogd 0xCA = mask ? x : y).
    SOLOMINER_INLINE V BswapKey(const vector_body::Consts& c) { return Set(c.bswap_mask); }
    SOLOMINER_INLINE V Bswap(V x, V mask) {
        return _mm512_ternarylogic_epi32(mask, _mm512_ror_epi32(x, 8), _mm512_rol_epi32(x, 8),
                                         0xCA);
    }
    SOLOMINER_INLINE V LaneIndex() {
        return _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    }
    // Bit i set when lane i of x <= max (unsigned): one vpcmpud into a mask register.
    SOLOMINER_INLINE uint32_t AtMost(V x, V max) { return _mm512_cmple_epu32_mask(x, max); }
};

#undef SOLOMINER_INLINE

// Versions per scan (software AsicBoost, vector_body.h ScanRolled). Core cycles per hashed
// header, fastest of 300 trials, one thread, Xeon model 207 (Emerald Rapids), December 2026,
// versions in pairs: K = 1 (ScanOne, the schedule per nonce) 95.0, K = 2 98.7, K = 4 86.3,
// K = 8 81.3, K = 16 78.8. Counted vector operations per header: 178.4 at K = 1, 149.7 + 29 / K
// with the schedule shared (75.7 cycles bound at K = 16). Past 16 the gain is under 1% (1/K of
// 29 operations), and 16 uses 4 of BIP320's 16 bits.
constexpr uint32_t kVersions = 16;

}  // namespace

const Backend kBackend = {"avx512", "avx512(16way)", Avx512::kLanes, kVersions,
                          vector_body::VectorScan<Avx512>::Scan};

}  // namespace avx512
}  // namespace solominer

#endif  // SOLOMINER_HAVE_AVX512

// 8-way AVX2 back end: eight nonces hashed side by side, one per 32-bit lane of a ymm
// register. The loop itself is vector_body.h; this file says how each of its operations is
// done with AVX2 and instantiates it with this file's flags.
//
// Compiled with -mavx2 only (see CMakeLists.txt); the dispatcher checks CPUID before calling
// kBackend.scan. AVX2 has no vector rotate, no 3-input logic and no unsigned compare, so:
// ROTR is two shifts whose results are XORed straight into the Σ/σ sums (§4.1.2: every
// rotation in SHA-256 ends up in an XOR, so OR is never needed), Ch is g ⊕ (e ∧ (f ⊕ g)),
// Maj is b ⊕ ((a ⊕ b) ∧ (b ⊕ c)) where b ⊕ c is the previous round's a ⊕ b (the compiler
// reuses it, so Maj costs two new operations plus that XOR), and x <= m is max(x, m) == m.
#if defined(SOLOMINER_HAVE_AVX2)

#include <immintrin.h>

#include <cstdint>

#include "sha256.h"
#include "vector_body.h"

namespace solominer {
namespace avx2 {
namespace {

#define SOLOMINER_INLINE static inline __attribute__((always_inline))

struct Avx2 {
    using V = __m256i;
    static constexpr uint32_t kLanes = 8;

    // Version rolling (vector_body.h ScanRolled): one version at a time (pairs of versions
    // spill: 16 registers hold one round state and its temporaries; at K = 16, fastest of 300
    // trials, Xeon model 207: single 235.8 cycles per header, pairs 294.3), hash 2 rounds
    // 33..56 rolled, as in the K = 1 loop.
    static constexpr bool kVersionPairs = false;
    static constexpr int kRolledHash2 = 33;

    SOLOMINER_INLINE V Set(uint32_t x) { return _mm256_set1_epi32(int(x)); }
    SOLOMINER_INLINE V Add(V a, V b) { return _mm256_add_epi32(a, b); }
    SOLOMINER_INLINE V Xor(V a, V b) { return _mm256_xor_si256(a, b); }
    SOLOMINER_INLINE V And(V a, V b) { return _mm256_and_si256(a, b); }
    // ROTR^n(x) = (x >> n) ⊕ (x << 32-n): the two halves never overlap, so they join the XOR
    // sum directly (6 shifts + 5 XORs for Σ, 5 + 4 for σ). Pairs are XORed first so the sum
    // is a tree of depth 3, not a chain.
    template <int n>
    SOLOMINER_INLINE V Rotr(V x) {
        return Xor(_mm256_srli_epi32(x, n), _mm256_slli_epi32(x, 32 - n));
    }
    template <int a, int b, int c>
    SOLOMINER_INLINE V Sigma(V x) {
        return Xor(Xor(Rotr<a>(x), Rotr<b>(x)), Rotr<c>(x));
    }
    template <int a, int b, int s>
    SOLOMINER_INLINE V SigmaShr(V x) {
        return Xor(Xor(Rotr<a>(x), Rotr<b>(x)), _mm256_srli_epi32(x, s));
    }
    // Ch(x,y,z) = (x∧y)⊕(¬x∧z) (4.2) = z ⊕ (x ∧ (y ⊕ z)): three operations.
    SOLOMINER_INLINE V Ch(V x, V y, V z) { return Xor(z, And(x, Xor(y, z))); }
    // Maj(x,y,z) (4.3) = y ⊕ ((x ⊕ y) ∧ (y ⊕ z)). In round t, y ⊕ z = b ⊕ c is round t-1's
    // x ⊕ y (= a ⊕ b then), which the compiler finds and reuses.
    SOLOMINER_INLINE V Maj(V x, V y, V z) { return Xor(y, And(Xor(x, y), Xor(y, z))); }
    // Byte swap of each 32-bit lane (vpshufb within 128-bit halves).
    SOLOMINER_INLINE V BswapKey(const vector_body::Consts& c) {
        return _mm256_load_si256(reinterpret_cast<const __m256i*>(c.bswap_shuffle));
    }
    SOLOMINER_INLINE V Bswap(V x, V shuffle) { return _mm256_shuffle_epi8(x, shuffle); }
    SOLOMINER_INLINE V LaneIndex() { return _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7); }
    // Bit i set when lane i of x <= max (unsigned): max(x, m) == m, one movemask bit a lane.
    SOLOMINER_INLINE uint32_t AtMost(V x, V max) {
        return uint32_t(_mm256_movemask_ps(
            _mm256_castsi256_ps(_mm256_cmpeq_epi32(_mm256_max_epu32(x, max), max))));
    }
};

#undef SOLOMINER_INLINE

// Versions per scan (software AsicBoost, vector_body.h ScanRolled). Core cycles per hashed
// header, fastest of 300 trials, one thread, Xeon model 207, December 2026: K = 1 257.0,
// K = 4 242.8, K = 8 237.8, K = 16 235.3 (16 of AVX2's 16 registers are not enough for the
// round state and the schedule, so this loop spills more than AVX-512's and gains less).
constexpr uint32_t kVersions = 16;

}  // namespace

const Backend kBackend = {"avx2", "avx2(8way)", Avx2::kLanes, kVersions,
                          vector_body::VectorScan<Avx2>::Scan};

}  // namespace avx2
}  // namespace solominer

#endif  // SOLOMINER_HAVE_AVX2

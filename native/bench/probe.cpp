#include "probe.h"

#include <algorithm>
#include <chrono>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

namespace solominer {
namespace {

using Clock = std::chrono::steady_clock;

uint64_t Tsc() {
#if defined(__x86_64__) || defined(__i386__)
    return __rdtsc();
#else
    return 0;
#endif
}

// 16 dependent adds per iteration. Register operands, not immediates: Golden Cove-class
// Intel cores fold chains of add-immediate at rename, which would count several per cycle.
constexpr uint64_t kChainIterations = 20000;
constexpr double kChainAdds = 16.0 * kChainIterations;

void AddChain() {
    uint64_t x = 0, n = kChainIterations;
    const uint64_t one = 1;
#if defined(__x86_64__)
    __asm__ volatile(
        ".p2align 5\n1:\n"
        "add %2, %0\n add %2, %0\n add %2, %0\n add %2, %0\n"
        "add %2, %0\n add %2, %0\n add %2, %0\n add %2, %0\n"
        "add %2, %0\n add %2, %0\n add %2, %0\n add %2, %0\n"
        "add %2, %0\n add %2, %0\n add %2, %0\n add %2, %0\n"
        "dec %1\n jnz 1b\n"
        : "+r"(x), "+r"(n)
        : "r"(one)
        : "cc");
#elif defined(__aarch64__)
    __asm__ volatile(
        ".p2align 5\n1:\n"
        "add %0, %0, %2\n add %0, %0, %2\n add %0, %0, %2\n add %0, %0, %2\n"
        "add %0, %0, %2\n add %0, %0, %2\n add %0, %0, %2\n add %0, %0, %2\n"
        "add %0, %0, %2\n add %0, %0, %2\n add %0, %0, %2\n add %0, %0, %2\n"
        "add %0, %0, %2\n add %0, %0, %2\n add %0, %0, %2\n add %0, %0, %2\n"
        "subs %1, %1, #1\n b.ne 1b\n"
        : "+r"(x), "+r"(n)
        : "r"(one)
        : "cc");
#else
    volatile uint64_t v = x;
    for (uint64_t i = 0; i < 16 * n; ++i) v = v + one;
#endif
}

double Seconds(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
}

}  // namespace

ProbeResult MeasureBackend(const Backend& backend, int trials, uint32_t nonces_per_trial) {
    ProbeResult r;
    uint8_t header[80];
    for (int i = 0; i < 80; ++i) header[i] = uint8_t(i * 37 + 11);
    HeaderWork work;
    PrepareHeader(header, work);
    const uint32_t count = nonces_per_trial - nonces_per_trial % backend.lanes;
    std::vector<uint32_t> hits(count);  // max_top_word 0: hits are rare, but room for all

    const Clock::time_point began = Clock::now();
    const uint64_t tsc_began = Tsc();
    double best_tsc = 0, best_ns = 0, best_core = 0;
    uint32_t first = 0;
    for (int i = 0; i < trials; ++i) {
        const Clock::time_point t0 = Clock::now();
        const uint64_t c0 = Tsc();
        backend.scan(work, first, count, 0, hits.data());
        const uint64_t c1 = Tsc();
        const Clock::time_point t1 = Clock::now();
        AddChain();
        const Clock::time_point t2 = Clock::now();
        first += count;
        const double tsc = double(c1 - c0) / count;
        const double ns = Seconds(t0, t1) * 1e9 / count;
        const double core = kChainAdds / Seconds(t1, t2);
        if (i == 0 || tsc < best_tsc) best_tsc = tsc;
        if (i == 0 || ns < best_ns) best_ns = ns;
        best_core = std::max(best_core, core);
    }
    const uint64_t tsc_ended = Tsc();
    const double elapsed = Seconds(began, Clock::now());
    r.tsc_hz = tsc_ended > tsc_began ? double(tsc_ended - tsc_began) / elapsed : 0;
    r.core_hz = best_core;
    r.tsc_per_nonce = r.tsc_hz > 0 ? best_tsc : 0;
    r.ns_per_nonce = best_ns;
    return r;
}

}  // namespace solominer

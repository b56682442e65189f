#include "probe.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
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

// One thread's part of a measurement: its trial times, and the core clock after each.
struct Trials {
    std::vector<uint64_t> tsc;
    std::vector<double> seconds;
    std::vector<double> core_hz;
};

void RunTrials(const Backend& backend, const HeaderWork& work, uint32_t first, uint32_t count,
               int trials, unsigned threads, std::atomic<unsigned>& arrived, Trials& out) {
    std::vector<ScanHit> hits(size_t(count) * work.versions);  // max_top_word 0: hits are rare
    for (int i = 0; i < trials; ++i) {
        // Barrier: every thread starts trial i together.
        arrived.fetch_add(1, std::memory_order_acq_rel);
        while (arrived.load(std::memory_order_acquire) < unsigned(i + 1) * threads) {
        }
        // The scan contract (sha256.h): first + count <= 2^32; a long run starts over at 0.
        if (uint64_t(first) + count > (uint64_t(1) << 32)) first = 0;
        const Clock::time_point t0 = Clock::now();
        const uint64_t c0 = Tsc();
        backend.scan(work, first, count, 0, hits.data());
        const uint64_t c1 = Tsc();
        const Clock::time_point t1 = Clock::now();
        AddChain();
        const Clock::time_point t2 = Clock::now();
        first += count;
        out.tsc[i] = c1 - c0;
        out.seconds[i] = Seconds(t0, t1);
        out.core_hz[i] = kChainAdds / Seconds(t1, t2);
    }
}

}  // namespace

ProbeResult MeasureBackend(const Backend& backend, int trials, uint32_t nonces_per_trial,
                           unsigned threads, uint32_t versions) {
    ProbeResult r;
    uint8_t header[80];
    for (int i = 0; i < 80; ++i) header[i] = uint8_t(i * 37 + 11);
    uint32_t rolled[kMaxVersions];
    for (uint32_t v = 0; v < versions; ++v) rolled[v] = 0x20000000u | (v << 13);
    HeaderWork work;
    PrepareHeader(header, rolled, versions, work);
    // nonces_per_trial counts hashes: a trial covers that many (version, nonce) pairs.
    const uint32_t nonces = std::max<uint32_t>(backend.lanes, nonces_per_trial / versions);
    const uint32_t count = nonces - nonces % backend.lanes;
    std::vector<Trials> parts(threads);
    for (auto& t : parts) {
        t.tsc.resize(trials);
        t.seconds.resize(trials);
        t.core_hz.resize(trials);
    }
    std::atomic<unsigned> arrived{0};

    const Clock::time_point began = Clock::now();
    const uint64_t tsc_began = Tsc();
    std::vector<std::thread> helpers;
    for (unsigned k = 1; k < threads; ++k) {
        helpers.emplace_back(RunTrials, std::cref(backend), std::cref(work), count * k * uint32_t(trials),
                             count, trials, threads, std::ref(arrived), std::ref(parts[k]));
    }
    RunTrials(backend, work, 0, count, trials, threads, arrived, parts[0]);
    for (auto& h : helpers) h.join();
    const uint64_t tsc_ended = Tsc();
    const double elapsed = Seconds(began, Clock::now());

    // A trial lasts as long as its slowest thread; the fastest such trial counts.
    double best_tsc = 0, best_s = 0, best_core = 0;
    for (int i = 0; i < trials; ++i) {
        uint64_t tsc = 0;
        double s = 0;
        for (const auto& t : parts) {
            tsc = std::max(tsc, t.tsc[i]);
            s = std::max(s, t.seconds[i]);
        }
        if (i == 0 || tsc < best_tsc) best_tsc = double(tsc);
        if (i == 0 || s < best_s) best_s = s;
        best_core = std::max(best_core, parts[0].core_hz[i]);
    }
    r.tsc_hz = tsc_ended > tsc_began ? double(tsc_ended - tsc_began) / elapsed : 0;
    r.core_hz = best_core;
    const double hashed = double(count) * versions;
    r.tsc_per_nonce = r.tsc_hz > 0 ? best_tsc / hashed : 0;
    r.ns_per_nonce = best_s * 1e9 / hashed;
    return r;
}

}  // namespace solominer

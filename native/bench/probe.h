// Clock and cycle measurements for `npm run bench` (scripts/bench.mjs): how many core cycles a
// back end spends per nonce, which with the count of vector instructions per nonce says how
// close its loop runs to what the core's execution ports allow.
#pragma once

#include <cstdint>

#include "../sha256/sha256.h"

namespace solominer {

struct ProbeResult {
    double tsc_hz = 0;          // time-stamp counter rate (0 where the CPU has none we read)
    double core_hz = 0;         // core clock right after hashing (see MeasureBackend)
    double tsc_per_nonce = 0;   // fastest trial, TSC ticks per nonce (0 without a TSC)
    double ns_per_nonce = 0;    // fastest trial, nanoseconds per nonce
};

// Runs `trials` short trials on the calling thread. Each hashes `nonces_per_trial` nonces
// with `backend` (timed with the TSC and the steady clock), then times a chain of dependent
// register adds, which retire one per core cycle: right after the hashing, so the clock it
// sees is the one the hashing ran at (Intel cores lower it under 512-bit work). The fastest
// of the trials is kept for each figure: on a shared machine it is the one nobody interrupted.
// With threads > 1, that many threads run every trial at the same moment (a barrier before
// each), a trial lasts until its slowest thread is done, and the figures are per thread: so
// threads × (1-thread time / n-thread time) is the scaling with every core busy, the turbo
// and shared caches included, without the noise of other processes.
// With versions > 1 every nonce is hashed with that many header versions (version rolling) and
// the figures are per (version, nonce) pair: directly comparable with versions = 1.
ProbeResult MeasureBackend(const Backend& backend, int trials, uint32_t nonces_per_trial,
                           unsigned threads = 1, uint32_t versions = 1);

}  // namespace solominer

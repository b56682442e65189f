// Chooses the SHA-256 back ends this CPU can run, once per process.
#pragma once

#include <string>
#include <vector>

#include "sha256.h"

namespace solominer {

struct CpuFeatures {
    bool sse41 = false;
    bool ssse3 = false;
    bool sha_ni = false;
    bool avx2 = false;
    bool avx512f = false;
    bool avx512vl = false;
    bool arm_sha2 = false;
};

// Why a compiled back end is or is not offered. kSelfTestFailed is the one that must never
// happen: the CPU has the instructions, yet the back end disagrees with the scalar reference
// (or wrote outside the caller's buffer). The test suite fails on it (test/engines/
// cpu-backends.test.ts) and the miner's start-up log names it, so it cannot silently vanish.
enum class BackendState { kUsable, kNotBuilt, kCpuLacks, kSelfTestFailed };

// A back end compiled into this build, whether this CPU can run it and, if not, why.
struct BackendStatus {
    const Backend* backend;
    bool usable;
    std::string reason;  // empty when usable
    BackendState state;
};

const char* BackendStateName(BackendState state);

// Scans exactly `count` nonces (1..2^32 - first), each with every version of `work`, with
// `backend`: the largest multiple of its lane count on the back end, the rest on the scalar
// reference. `hits` has room for `count` * work.versions entries and nothing is written past
// them. Every caller that does not already hold a count
// that is a multiple of the lanes (the scanner, the self-test) goes through here.
uint32_t ScanExact(const Backend& backend, const HeaderWork& work, uint32_t first, uint32_t count,
                   uint32_t max_top_word, ScanHit* hits);

const CpuFeatures& DetectCpu();

// Every compiled back end, fastest first. Detection and the known-answer self-test run once,
// on first use; a back end that fails its self-test is marked unusable with the reason.
const std::vector<BackendStatus>& BackendTable();

// The fastest usable back end; scalar always qualifies.
const Backend& BestBackend();

// A usable back end by name; nullptr with *why filled when unknown or not usable here.
const Backend* FindBackend(const std::string& name, std::string* why);

// The fastest plain compression this CPU runs (SHA-NI, else scalar), self-tested once.
CompressFn FastCompress();

// For the log: e.g. "avx512(16way); x86_shani(2way); avx2(8way); scalar(1way)".
std::string DescribeBackends();

}  // namespace solominer

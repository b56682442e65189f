// Back-end selection: CPU feature detection, a known-answer self-test against the scalar
// reference, and a table filled once. Mirrors what Bitcoin Core's sha256.cpp AutoDetect does,
// but for the nonce scanner rather than generic hashing.
#include "dispatch.h"

#include <cstring>
#include <mutex>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#if defined(__aarch64__) && defined(__linux__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif

namespace solominer {
namespace {

#if defined(__x86_64__) || defined(__i386__)
uint64_t ReadXcr0() {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (uint64_t(hi) << 32) | lo;
}
#endif

CpuFeatures Detect() {
    CpuFeatures f;
#if defined(__x86_64__) || defined(__i386__)
    uint32_t a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
    f.ssse3 = (c >> 9) & 1;
    f.sse41 = (c >> 19) & 1;
    const bool osxsave = (c >> 27) & 1;
    const bool avx = (c >> 28) & 1;
    // Vector state must be enabled by the OS (XCR0), not just present in the CPU.
    const uint64_t xcr0 = osxsave ? ReadXcr0() : 0;
    const bool os_ymm = (xcr0 & 0x6) == 0x6;
    const bool os_zmm = (xcr0 & 0xe6) == 0xe6;
    if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
        f.sha_ni = (b >> 29) & 1;
        f.avx2 = avx && os_ymm && ((b >> 5) & 1);
        f.avx512f = os_zmm && ((b >> 16) & 1);
        f.avx512vl = os_zmm && ((b >> 31) & 1);
    }
#endif
#if defined(__aarch64__) && defined(__linux__)
    f.arm_sha2 = (getauxval(AT_HWCAP) & HWCAP_SHA2) != 0;
#endif
    return f;
}

// A fixed pseudo-random header stream for the self-test (xorshift: deterministic, no state).
void FillTestHeader(uint8_t header[80], uint32_t seed) {
    uint32_t x = seed * 2654435761u + 1;
    for (int i = 0; i < 80; ++i) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        header[i] = uint8_t(x);
    }
}

// Versions for the self-test: pseudo-random values inside BIP320's mask 0x1fffe000 over a
// fixed base (any 32-bit values would do for the hash; these are the ones a miner rolls).
void FillTestVersions(uint32_t* versions, uint32_t count, uint32_t seed) {
    uint32_t x = seed * 0x9e3779b9u + 7;
    for (uint32_t v = 0; v < count; ++v) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        versions[v] = 0x20000000u | (x & 0x1fffe000u);
    }
}

bool SameHits(const ScanHit* want, uint32_t n_want, const ScanHit* got, uint32_t n_got) {
    if (n_want != n_got) return false;
    // Both lists hold distinct (nonce, version) pairs; order may differ between back ends.
    for (uint32_t i = 0; i < n_want; ++i) {
        bool seen = false;
        for (uint32_t j = 0; j < n_got && !seen; ++j) {
            seen = got[j].nonce == want[i].nonce && got[j].version == want[i].version;
        }
        if (!seen) return false;
    }
    return true;
}

// Runs `candidate` and the scalar reference over the same (version, nonce) pairs and demands
// the same hits. Two paths are tested: the back end's own scan at a lane multiple, with guard
// entries after the caller's buffer that must stay untouched, and ScanExact() at counts that
// are not a lane multiple (1, lanes - 1, lanes + 1, 255), which is how the scanner calls it for
// a chunk tail. Each header is scanned with another number of versions: one (the plain scan),
// an odd count, the back end's own K and the most a scan takes, so that sharing the message
// schedule between versions is checked against a reference that shares nothing.
bool AgreesWithReference(const Backend& candidate) {
    constexpr uint32_t kMax = 256;
    constexpr uint32_t kGuard = 8;
    constexpr ScanHit kGuardHit = {0xa5a5a5a5u, 0x5a5a5a5au};
    static ScanHit want[kMax * kMaxVersions], got[kMax * kMaxVersions + kGuard];
    const uint32_t lanes = candidate.lanes;
    const uint32_t lane_multiple = kMax - kMax % lanes;
    const uint32_t counts[] = {lane_multiple, 1, lanes > 1 ? lanes - 1 : 1, lanes + 1, kMax - 1};
    const uint32_t limits[] = {0xffffffffu, 0x0fffffffu, 0};
    const uint32_t version_counts[] = {1, 3, candidate.versions, kMaxVersions};
    for (uint32_t seed = 1; seed <= 4; ++seed) {
        uint8_t header[80];
        FillTestHeader(header, seed);
        uint32_t versions[kMaxVersions];
        const uint32_t k = version_counts[seed - 1];
        FillTestVersions(versions, k, seed);
        HeaderWork work;
        PrepareHeader(header, versions, k, work);
        for (uint32_t c = 0; c < sizeof counts / sizeof counts[0]; ++c) {
            const uint32_t count = counts[c];
            const bool raw = c == 0;
            const uint32_t first = seed == 4 ? 0u - count : seed * 977u;  // one run ends at 2^32-1
            for (uint32_t limit : limits) {
                const uint32_t room = count * k;
                for (uint32_t g = 0; g < kGuard; ++g) got[room + g] = kGuardHit;
                const uint32_t n_want = scalar::kBackend.scan(work, first, count, limit, want);
                const uint32_t n_got = raw ? candidate.scan(work, first, count, limit, got)
                                           : ScanExact(candidate, work, first, count, limit, got);
                for (uint32_t g = 0; g < kGuard; ++g) {
                    if (got[room + g].nonce != kGuardHit.nonce ||
                        got[room + g].version != kGuardHit.version) {
                        return false;  // wrote past the buffer
                    }
                }
                if (!SameHits(want, n_want, got, n_got)) return false;
            }
        }
    }
    return true;
}

// Stand-ins for back ends this build lacks (another architecture, or a compiler without
// the flags), so that asking for one says why instead of "unknown".
const Backend kNotBuiltAvx512 = {"avx512", "avx512(16way)", 16, 1, nullptr};
const Backend kNotBuiltShani = {"x86_shani", "x86_shani(2way)", 2, 1, nullptr};
const Backend kNotBuiltArm = {"arm_sha2", "arm_sha2(3way)", 3, 1, nullptr};
const Backend kNotBuiltAvx2 = {"avx2", "avx2(8way)", 8, 1, nullptr};

std::vector<BackendStatus> BuildTable() {
    const CpuFeatures& cpu = DetectCpu();
    std::vector<BackendStatus> table;
    auto add = [&](const Backend& b, bool supported, const char* needs) {
        if (b.scan == nullptr) {
            table.push_back({&b, false, "not built for this processor architecture or compiler",
                             BackendState::kNotBuilt});
        } else if (!supported) {
            table.push_back({&b, false, std::string("this CPU lacks ") + needs, BackendState::kCpuLacks});
        } else if (!AgreesWithReference(b)) {
            table.push_back({&b, false, "failed its self-test against the scalar reference",
                             BackendState::kSelfTestFailed});
        } else {
            table.push_back({&b, true, "", BackendState::kUsable});
        }
    };
    // Fastest first, as measured on x86 CPUs that have all of them (see npm run bench).
#if defined(SOLOMINER_HAVE_AVX512)
    add(avx512::kBackend, cpu.avx512f && cpu.avx512vl, "avx512f/avx512vl");
#else
    add(kNotBuiltAvx512, false, "");
#endif
#if defined(SOLOMINER_HAVE_X86_SHANI)
    add(x86_shani::kBackend, cpu.sha_ni && cpu.sse41 && cpu.ssse3, "sha_ni/sse4.1/ssse3");
#else
    add(kNotBuiltShani, false, "");
#endif
#if defined(SOLOMINER_HAVE_ARM_SHA2)
    add(arm_sha2::kBackend, cpu.arm_sha2, "the ARMv8 SHA2 extension");
#else
    add(kNotBuiltArm, false, "");
#endif
#if defined(SOLOMINER_HAVE_AVX2)
    add(avx2::kBackend, cpu.avx2, "avx2");
#else
    add(kNotBuiltAvx2, false, "");
#endif
    add(scalar::kBackend, true, "");
    return table;
}

}  // namespace

uint32_t ScanExact(const Backend& backend, const HeaderWork& work, uint32_t first, uint32_t count,
                   uint32_t max_top_word, ScanHit* hits) {
    const uint32_t main_part = count - count % backend.lanes;
    uint32_t found = main_part ? backend.scan(work, first, main_part, max_top_word, hits) : 0;
    if (main_part < count) {
        found += scalar::kBackend.scan(work, first + main_part, count - main_part, max_top_word,
                                       hits + found);
    }
    return found;
}

const char* BackendStateName(BackendState state) {
    switch (state) {
        case BackendState::kUsable: return "usable";
        case BackendState::kNotBuilt: return "not-built";
        case BackendState::kCpuLacks: return "cpu-lacks";
        case BackendState::kSelfTestFailed: return "self-test-failed";
    }
    return "unknown";
}

const CpuFeatures& DetectCpu() {
    static const CpuFeatures features = Detect();
    return features;
}

const std::vector<BackendStatus>& BackendTable() {
    static const std::vector<BackendStatus> table = BuildTable();
    return table;
}

const Backend& BestBackend() {
    for (const auto& entry : BackendTable()) {
        if (entry.usable) return *entry.backend;
    }
    return scalar::kBackend;
}

const Backend* FindBackend(const std::string& name, std::string* why) {
    for (const auto& entry : BackendTable()) {
        if (name != entry.backend->name) continue;
        if (entry.usable) return entry.backend;
        if (why) *why = entry.reason;
        return nullptr;
    }
    if (why) *why = "no such back end";
    return nullptr;
}

CompressFn FastCompress() {
    static const CompressFn chosen = [] {
#if defined(SOLOMINER_HAVE_X86_SHANI)
        const CpuFeatures& cpu = DetectCpu();
        if (cpu.sha_ni && cpu.sse41 && cpu.ssse3) {
            // Known answer against the scalar reference on a few chained blocks.
            uint32_t want[8], got[8];
            std::memcpy(want, kSha256Init, sizeof want);
            std::memcpy(got, kSha256Init, sizeof got);
            bool same = true;
            for (uint32_t seed = 1; seed <= 4 && same; ++seed) {
                uint8_t bytes[80];
                FillTestHeader(bytes, seed);  // its first 64 pseudo-random bytes make a block
                Sha256Compress(want, bytes);
                x86_shani::Compress(got, bytes);
                same = std::memcmp(want, got, sizeof want) == 0;
            }
            if (same) return CompressFn(x86_shani::Compress);
        }
#endif
        return CompressFn(Sha256Compress);
    }();
    return chosen;
}

std::string DescribeBackends() {
    std::string out;
    for (const auto& entry : BackendTable()) {
        if (!entry.usable) continue;
        if (!out.empty()) out += "; ";
        out += entry.backend->description;
    }
    return out;
}

}  // namespace solominer

// Multi-threaded search of one nonce range of one header.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "../sha256/dispatch.h"
#include "../sha256/sha256.h"

namespace solominer {

// How hashing threads share the machine (checked in TypeScript first, src/engines/cpu-engine.ts).
enum class ThreadPriority { kNormal, kLow, kIdle };

// Everything a scan needs, copied out of JavaScript before any thread starts.
struct ScanRequest {
    uint8_t header[80];
    // The header versions to hash every nonce with (version rolling; the header's own version
    // field is not used): 1..kMaxVersions distinct values. Hashes counted are nonces × count.
    uint32_t versions[kMaxVersions] = {};
    uint32_t version_count = 0;
    uint8_t target[32];  // big-endian: the number a hash in display order is compared with
    uint32_t start = 0;
    uint64_t count = 0;  // 1..2^32, start + count <= 2^32
    const Backend* backend = nullptr;
    unsigned threads = 1;
    // Stop the whole scan at the first nonce found. A miner sets it when the target it passes
    // is the block target: after one block the template is dead, and at a trivial target
    // (regtest) every other nonce would otherwise be reported.
    bool stop_on_found = false;
    // Hashing thread i runs only on CPU affinity[i % size]; empty: wherever the OS likes.
    std::vector<int> affinity;
    // Per hashing thread (Linux: SCHED_IDLE for kIdle, nice 19 for kLow), never the process:
    // the JavaScript thread keeps its priority, so work switches stay fast.
    ThreadPriority priority = ThreadPriority::kNormal;
    // Percent of one core each hashing thread may use, 1..100 (see Scanner::Throttle).
    unsigned cpu_limit = 100;
};

struct FoundNonce {
    uint32_t nonce;
    uint32_t version;  // the header version it was found with (the value, not an index)
    uint8_t hash[32];  // display order (most significant byte first)
};

// Owns the worker threads of one scan. Workers claim chunks of the range from a shared
// counter, so threads finish together however fast each runs; every chunk boundary is a
// point where a stop request is seen (a chunk takes well under a millisecond). A chunk is a
// run of nonces, each hashed with every version of the request.
class Scanner {
public:
    explicit Scanner(const ScanRequest& request);
    ~Scanner();
    Scanner(const Scanner&) = delete;
    Scanner& operator=(const Scanner&) = delete;

    // Starts the workers and waits until each has applied its thread settings (affinity,
    // priority): returns an empty string, or why a setting failed (the scan is then stopped).
    std::string Start();
    void RequestStop();
    bool StopRequested() const { return stop_.load(std::memory_order_relaxed); }

    // Waits until every worker has finished or `timeout` passes, or until a found nonce is
    // waiting to be taken. Returns true once all workers are done.
    bool WaitFor(std::chrono::milliseconds timeout);
    void Join();

    // Moves the nonces found since the last call into `out`.
    void TakeFound(std::vector<FoundNonce>& out);
    uint64_t HashesDone() const;

private:
    void Work(unsigned index);
    void Report(uint32_t nonce, uint32_t version, const uint8_t hash[32]);
    std::string ApplyThreadSettings(unsigned index);

    // Duty cycle of one hashing thread under cpu_limit: after each chunk, if the thread has
    // used more CPU time than cpu_limit% of the wall time since its period began, it sleeps
    // until the two match again, on a condition variable that RequestStop() signals.
    struct Throttle {
        std::chrono::steady_clock::time_point period_start;
        double cpu_start = 0;  // thread CPU seconds at period_start
    };
    void ThrottleAfterChunk(Throttle& throttle);

    ScanRequest request_;
    uint64_t chunk_;
    std::atomic<uint64_t> next_{0};
    std::atomic<bool> stop_{false};
    std::vector<std::thread> workers_;
    // One counter per worker, each on its own cache line so workers never share one.
    struct alignas(64) Counter {
        std::atomic<uint64_t> hashes{0};
    };
    std::vector<Counter> counters_;

    std::mutex throttle_mutex_;
    std::condition_variable throttle_wake_;  // RequestStop() ends every throttle sleep at once

    std::mutex mutex_;
    std::condition_variable changed_;
    std::vector<FoundNonce> found_;
    unsigned running_ = 0;
    unsigned ready_ = 0;        // workers past ApplyThreadSettings
    std::string setup_error_;   // the first failure there
};

// True when `hash` (display order) is at or below `target` (big-endian).
bool HashMeetsTarget(const uint8_t hash[32], const uint8_t target[32]);

}  // namespace solominer

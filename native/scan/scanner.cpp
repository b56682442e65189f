#include "scanner.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

#if defined(__linux__)
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace solominer {

bool HashMeetsTarget(const uint8_t hash[32], const uint8_t target[32]) {
    return std::memcmp(hash, target, 32) <= 0;
}

namespace {

// Nonces per chunk for a back end: about a thousand steps of one version, which keeps a stop
// request answered in well under a millisecond even on the slowest back end. With K versions
// a step hashes K headers, so a chunk has K times fewer steps (at least 64).
uint64_t ChunkFor(const Backend& backend, uint32_t versions) {
    return uint64_t(std::max<uint32_t>(64, 1024 / std::max<uint32_t>(1, versions))) * backend.lanes;
}

// CPU time of the calling thread, in seconds (wall time where the OS has no per-thread clock).
double ThreadCpuSeconds() {
#if defined(CLOCK_THREAD_CPUTIME_ID)
    timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0) return double(ts.tv_sec) + ts.tv_nsec * 1e-9;
#endif
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void WriteLE32(uint8_t* p, uint32_t v) {
    for (int b = 0; b < 4; ++b) p[b] = uint8_t(v >> (8 * b));
}

// The duty cycle's period: long enough that a chunk (about 0.5 ms) is a small part of it,
// short enough that the load looks steady to anything watching the machine.
constexpr std::chrono::milliseconds kThrottlePeriod{10};

}  // namespace

void Scanner::RequestStop() {
    stop_.store(true, std::memory_order_relaxed);
    // Taking the lock orders this store before any waiter's next look at stop_, so no
    // throttled worker can miss the wake-up and sleep out its period.
    { std::lock_guard<std::mutex> lock(throttle_mutex_); }
    throttle_wake_.notify_all();
}

std::string Scanner::ApplyThreadSettings(unsigned index) {
#if defined(__linux__)
    const pid_t tid = pid_t(syscall(SYS_gettid));
    if (!request_.affinity.empty()) {
        const int cpu = request_.affinity[index % request_.affinity.size()];
        cpu_set_t set;
        CPU_ZERO(&set);
        if (cpu < 0 || cpu >= CPU_SETSIZE) return "affinity: CPU " + std::to_string(cpu) + " is out of range";
        CPU_SET(cpu, &set);
        if (sched_setaffinity(tid, sizeof set, &set) != 0) {
            return "affinity: cannot run on CPU " + std::to_string(cpu) + " (" + std::strerror(errno) + ")";
        }
    }
    if (request_.priority == ThreadPriority::kIdle) {
        sched_param param{};
        if (sched_setscheduler(tid, SCHED_IDLE, &param) != 0) {
            return std::string("priority: cannot set SCHED_IDLE (") + std::strerror(errno) + ")";
        }
    } else if (request_.priority == ThreadPriority::kLow) {
        // Linux keeps a nice value per thread: PRIO_PROCESS with a thread id sets only it.
        if (setpriority(PRIO_PROCESS, id_t(tid), 19) != 0) {
            return std::string("priority: cannot set nice 19 (") + std::strerror(errno) + ")";
        }
    }
    // A name per hashing thread: shows in top -H and in /proc/<pid>/task/<tid>/comm. Given
    // last, so that a thread seen by its name already runs where and how it was asked to.
    char name[16];
    std::snprintf(name, sizeof name, "sm-hash-%u", index);
    pthread_setname_np(pthread_self(), name);
    return "";
#else
    (void)index;
    if (!request_.affinity.empty() || request_.priority != ThreadPriority::kNormal) {
        return "affinity and priority are supported on Linux only";
    }
    return "";
#endif
}

void Scanner::ThrottleAfterChunk(Throttle& throttle) {
    const auto now = std::chrono::steady_clock::now();
    const double share = request_.cpu_limit / 100.0;
    const double used = ThreadCpuSeconds() - throttle.cpu_start;
    const double wall = std::chrono::duration<double>(now - throttle.period_start).count();
    const double busy = share * std::chrono::duration<double>(kThrottlePeriod).count();
    if (used >= busy) {
        // Sleep until the CPU time used is cpu_limit% of the wall time since the period began.
        const auto wake = throttle.period_start +
                          std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                              std::chrono::duration<double>(used / share));
        std::unique_lock<std::mutex> lock(throttle_mutex_);
        throttle_wake_.wait_until(lock, wake, [this] { return StopRequested(); });
    } else if (wall < std::chrono::duration<double>(kThrottlePeriod).count()) {
        return;  // still inside this period's share
    }
    // A new period: after a sleep, or when other processes kept this thread from using its
    // share in time (then it does not sleep: it gets less than its limit already).
    throttle.period_start = std::chrono::steady_clock::now();
    throttle.cpu_start = ThreadCpuSeconds();
}

Scanner::Scanner(const ScanRequest& request)
    : request_(request),
      chunk_(ChunkFor(*request.backend, request.version_count)),
      counters_(request.threads) {}

Scanner::~Scanner() {
    RequestStop();
    Join();
}

std::string Scanner::Start() {
    running_ = request_.threads;
    workers_.reserve(request_.threads);
    for (unsigned i = 0; i < request_.threads; ++i) workers_.emplace_back(&Scanner::Work, this, i);
    std::string error;
    {
        std::unique_lock<std::mutex> lock(mutex_);
        changed_.wait(lock, [this] { return ready_ == request_.threads; });
        error = setup_error_;
    }
    if (!error.empty()) {
        RequestStop();
        Join();
    }
    return error;
}

void Scanner::Join() {
    for (auto& worker : workers_) {
        if (worker.joinable()) worker.join();
    }
}

bool Scanner::WaitFor(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait_for(lock, timeout, [this] { return running_ == 0 || !found_.empty(); });
    return running_ == 0;
}

void Scanner::TakeFound(std::vector<FoundNonce>& out) {
    std::lock_guard<std::mutex> lock(mutex_);
    out.insert(out.end(), found_.begin(), found_.end());
    found_.clear();
}

uint64_t Scanner::HashesDone() const {
    uint64_t total = 0;
    for (const auto& c : counters_) total += c.hashes.load(std::memory_order_relaxed);
    return total;
}

void Scanner::Report(uint32_t nonce, uint32_t version, const uint8_t hash[32]) {
    FoundNonce f;
    f.nonce = nonce;
    f.version = version;
    std::memcpy(f.hash, hash, 32);
    {
        std::lock_guard<std::mutex> lock(mutex_);
        found_.push_back(f);
    }
    changed_.notify_all();
}

void Scanner::Work(unsigned index) {
    {
        const std::string error = ApplyThreadSettings(index);
        std::lock_guard<std::mutex> lock(mutex_);
        if (!error.empty() && setup_error_.empty()) setup_error_ = error;
        ++ready_;
    }
    changed_.notify_all();
    const Backend& backend = *request_.backend;
    HeaderWork work;
    PrepareHeader(request_.header, request_.versions, request_.version_count, work);
    const uint64_t versions = request_.version_count;
    // The back end only filters on the hash's most significant word; every (version, nonce)
    // it passes is hashed again here in full and compared with the whole target.
    const uint32_t top_word = ReadBE32(request_.target);
    std::vector<ScanHit> hits(chunk_ * versions);  // before the loop: no allocation while hashing
    uint8_t header[80];
    std::memcpy(header, request_.header, 80);
    uint8_t digest[32], display[32];
    std::atomic<uint64_t>& hashes = counters_[index].hashes;
    const bool throttled = request_.cpu_limit < 100;
    Throttle throttle{std::chrono::steady_clock::now(), ThreadCpuSeconds()};

    while (!StopRequested()) {
        const uint64_t offset = next_.fetch_add(chunk_, std::memory_order_relaxed);
        if (offset >= request_.count) break;
        const uint64_t n = std::min<uint64_t>(chunk_, request_.count - offset);
        const uint32_t first = uint32_t(request_.start + offset);
        // Any count is accepted (the last chunk of a range rarely is a lane multiple): the
        // tail goes to the scalar reference inside ScanExact, never past the range or `hits`.
        const uint32_t found = ScanExact(backend, work, first, uint32_t(n), top_word, hits.data());
        for (uint32_t i = 0; i < found; ++i) {
            const uint32_t nonce = hits[i].nonce;
            const uint32_t version = request_.versions[hits[i].version];
            WriteLE32(header, version);
            WriteLE32(header + 76, nonce);
            Sha256dHeader(header, digest);
            for (int b = 0; b < 32; ++b) display[b] = digest[31 - b];
            if (HashMeetsTarget(display, request_.target)) {
                Report(nonce, version, display);
                if (request_.stop_on_found) {
                    RequestStop();
                    break;
                }
            }
        }
        hashes.fetch_add(n * versions, std::memory_order_relaxed);
        if (throttled) ThrottleAfterChunk(throttle);
    }

    {
        std::lock_guard<std::mutex> lock(mutex_);
        --running_;
    }
    changed_.notify_all();
}

}  // namespace solominer

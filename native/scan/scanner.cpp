#include "scanner.h"

#include <algorithm>
#include <cstring>

namespace solominer {

bool HashMeetsTarget(const uint8_t hash[32], const uint8_t target[32]) {
    return std::memcmp(hash, target, 32) <= 0;
}

namespace {

// Nonces per chunk for a back end: about a thousand steps, which keeps a stop request
// answered in well under a millisecond even on the slowest back end.
uint64_t ChunkFor(const Backend& backend) { return uint64_t(1024) * backend.lanes; }

}  // namespace

Scanner::Scanner(const ScanRequest& request)
    : request_(request), chunk_(ChunkFor(*request.backend)), counters_(request.threads) {}

Scanner::~Scanner() {
    RequestStop();
    Join();
}

void Scanner::Start() {
    running_ = request_.threads;
    workers_.reserve(request_.threads);
    for (unsigned i = 0; i < request_.threads; ++i) workers_.emplace_back(&Scanner::Work, this, i);
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

void Scanner::Report(uint32_t nonce, const uint8_t hash[32]) {
    FoundNonce f;
    f.nonce = nonce;
    std::memcpy(f.hash, hash, 32);
    {
        std::lock_guard<std::mutex> lock(mutex_);
        found_.push_back(f);
    }
    changed_.notify_all();
}

void Scanner::Work(unsigned index) {
    const Backend& backend = *request_.backend;
    const Backend& tail_backend = scalar::kBackend;
    HeaderWork work;
    PrepareHeader(request_.header, work);
    // The back end only filters on the hash's most significant word; every nonce it passes is
    // hashed again here in full and compared with the whole target.
    const uint32_t top_word = ReadBE32(request_.target);
    std::vector<uint32_t> hits(chunk_);  // before the loop: no allocation while hashing
    uint8_t header[80];
    std::memcpy(header, request_.header, 80);
    uint8_t digest[32], display[32];
    std::atomic<uint64_t>& hashes = counters_[index].hashes;

    while (!StopRequested()) {
        const uint64_t offset = next_.fetch_add(chunk_, std::memory_order_relaxed);
        if (offset >= request_.count) break;
        const uint64_t n = std::min<uint64_t>(chunk_, request_.count - offset);
        const uint32_t first = uint32_t(request_.start + offset);
        const uint32_t main_part = uint32_t(n - n % backend.lanes);
        uint32_t found = backend.scan(work, first, main_part, top_word, hits.data());
        if (main_part < n) {
            found += tail_backend.scan(work, first + main_part, uint32_t(n - main_part), top_word,
                                       hits.data() + found);
        }
        for (uint32_t i = 0; i < found; ++i) {
            const uint32_t nonce = hits[i];
            header[76] = uint8_t(nonce);
            header[77] = uint8_t(nonce >> 8);
            header[78] = uint8_t(nonce >> 16);
            header[79] = uint8_t(nonce >> 24);
            Sha256dHeader(header, digest);
            for (int b = 0; b < 32; ++b) display[b] = digest[31 - b];
            if (HashMeetsTarget(display, request_.target)) {
                Report(nonce, display);
                if (request_.stop_on_found) {
                    RequestStop();
                    break;
                }
            }
        }
        hashes.fetch_add(n, std::memory_order_relaxed);
    }

    {
        std::lock_guard<std::mutex> lock(mutex_);
        --running_;
    }
    changed_.notify_all();
}

}  // namespace solominer

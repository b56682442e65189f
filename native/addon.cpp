// Node-API bindings of the native engine. JavaScript values are copied into plain C++
// structs on the main thread before any worker starts; workers never touch Napi. Results
// travel back through one thread-safe function per scan. Range and format checks happen in
// TypeScript first (src/native/); the checks here only stop a caller that skipped them.
#include <napi.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <thread>

#if defined(__linux__)
#include <sched.h>
#endif

#include "bench/probe.h"
#include "merkle.h"
#include "noise/chacha20poly1305.h"
#include "scan/scanner.h"
#include "sha256/dispatch.h"

namespace solominer {
namespace {

constexpr uint64_t kNonceSpace = uint64_t(1) << 32;

Napi::Value CpuFeaturesJs(const Napi::CallbackInfo& info) {
    const CpuFeatures& f = DetectCpu();
    Napi::Object out = Napi::Object::New(info.Env());
    out.Set("sse41", f.sse41);
    out.Set("ssse3", f.ssse3);
    out.Set("shaNi", f.sha_ni);
    out.Set("avx2", f.avx2);
    out.Set("avx512f", f.avx512f);
    out.Set("avx512vl", f.avx512vl);
    out.Set("armSha2", f.arm_sha2);
    return out;
}

Napi::Value BackendsJs(const Napi::CallbackInfo& info) {
    const auto& table = BackendTable();
    Napi::Array out = Napi::Array::New(info.Env(), table.size());
    for (size_t i = 0; i < table.size(); ++i) {
        Napi::Object row = Napi::Object::New(info.Env());
        row.Set("name", table[i].backend->name);
        row.Set("description", table[i].backend->description);
        row.Set("lanes", table[i].backend->lanes);
        row.Set("versions", table[i].backend->versions);
        row.Set("usable", table[i].usable);
        row.Set("reason", table[i].reason);
        row.Set("state", BackendStateName(table[i].state));
        out.Set(uint32_t(i), row);
    }
    return out;
}

// A back end this CPU can run, by name; a JavaScript error saying why not otherwise.
const Backend* UsableBackend(Napi::Env env, const std::string& name) {
    std::string why;
    const Backend* backend = FindBackend(name, &why);
    if (backend == nullptr) {
        throw Napi::Error::New(env, "backend: " + name + " is not available (" + why + ")");
    }
    return backend;
}

// probeBackend(name, trials, noncesPerTrial, threads = 1, versions = 1)
//   -> {tscHz, coreHz, tscPerNonce, nsPerNonce}, per (version, nonce) hashed
// Blocks the calling thread for the whole measurement (a few hundred ms at the bench's
// sizes): for npm run bench only, never for a running miner.
Napi::Value ProbeBackendJs(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const std::string name = info.Length() > 0 ? info[0].ToString().Utf8Value() : "";
    const double trials = info.Length() > 1 ? info[1].ToNumber().DoubleValue() : 0;
    const double nonces = info.Length() > 2 ? info[2].ToNumber().DoubleValue() : 0;
    const double threads = info.Length() > 3 && !info[3].IsUndefined() ? info[3].ToNumber().DoubleValue() : 1;
    const double versions = info.Length() > 4 && !info[4].IsUndefined() ? info[4].ToNumber().DoubleValue() : 1;
    if (!(trials >= 1 && trials <= 100000) || !(nonces >= 16 && nonces <= (1 << 24)) ||
        !(threads >= 1 && threads <= 256) || !(versions >= 1 && versions <= kMaxVersions)) {
        throw Napi::RangeError::New(env, "probeBackend: expected trials 1..100000, nonces 16..2^24, threads 1..256, versions 1..16");
    }
    const Backend* backend = UsableBackend(env, name);
    const ProbeResult r = MeasureBackend(*backend, int(trials), uint32_t(nonces), unsigned(threads), uint32_t(versions));
    Napi::Object out = Napi::Object::New(env);
    out.Set("tscHz", r.tsc_hz);
    out.Set("coreHz", r.core_hz);
    out.Set("tscPerNonce", r.tsc_per_nonce);
    out.Set("nsPerNonce", r.ns_per_nonce);
    return out;
}

// allowedCpus() -> the CPU indices this process may run on (sched_getaffinity), ascending;
// empty where the OS does not say.
Napi::Value AllowedCpusJs(const Napi::CallbackInfo& info) {
    Napi::Array out = Napi::Array::New(info.Env());
#if defined(__linux__)
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        uint32_t n = 0;
        for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
            if (CPU_ISSET(cpu, &set)) out.Set(n++, Napi::Number::New(info.Env(), cpu));
        }
    }
#endif
    return out;
}

bool CopyBytes(const Napi::Value& value, uint8_t* dest, size_t size) {
    if (!value.IsTypedArray()) return false;
    Napi::TypedArray typed = value.As<Napi::TypedArray>();
    if (typed.TypedArrayType() != napi_uint8_array || typed.ByteLength() != size) return false;
    Napi::Uint8Array bytes = value.As<Napi::Uint8Array>();
    std::memcpy(dest, bytes.Data(), size);
    return true;
}

Napi::Value Sha256dHeaderJs(const Napi::CallbackInfo& info) {
    uint8_t header[80];
    if (info.Length() < 1 || !CopyBytes(info[0], header, 80)) {
        throw Napi::TypeError::New(info.Env(), "header: expected a Uint8Array of 80 bytes");
    }
    uint8_t digest[32];
    Sha256dHeader(header, digest);
    return Napi::Buffer<uint8_t>::Copy(info.Env(), digest, 32);
}

// Both take the hashes concatenated in one Uint8Array (n × 32 bytes, internal byte order).
// They run on the calling thread: a 3,000-transaction tree is ~9,000 compressions, a few
// milliseconds, less than handing the work to a thread and back would add to a new tip.
bool HashList(const Napi::Value& value, const uint8_t** data, size_t* count) {
    if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) return false;
    Napi::Uint8Array bytes = value.As<Napi::Uint8Array>();
    if (bytes.ByteLength() % 32 != 0) return false;
    *data = bytes.Data();
    *count = bytes.ByteLength() / 32;
    return true;
}

Napi::Value MerkleBranchJs(const Napi::CallbackInfo& info) {
    const uint8_t* data;
    size_t count;
    if (info.Length() < 1 || !HashList(info[0], &data, &count)) {
        throw Napi::TypeError::New(info.Env(), "txids: expected a Uint8Array of 32-byte hashes");
    }
    const std::vector<uint8_t> branch = MerkleBranch(data, count);
    return Napi::Buffer<uint8_t>::Copy(info.Env(), branch.data(), branch.size());
}

Napi::Value MerkleRootJs(const Napi::CallbackInfo& info) {
    const uint8_t* data;
    size_t count;
    if (info.Length() < 1 || !HashList(info[0], &data, &count)) {
        throw Napi::TypeError::New(info.Env(), "hashes: expected a Uint8Array of 32-byte hashes");
    }
    uint8_t root[32];
    MerkleRoot(data, count, root);
    return Napi::Buffer<uint8_t>::Copy(info.Env(), root, 32);
}

// shareHash(coinbase, branch, header, out): a Stratum share's hash (merkle.h ShareHash). The
// header's root is written in place and the hash into `out`, so a share costs no allocation;
// lengths are checked in TypeScript first (src/stratum/share.ts) and again here.
Napi::Value ShareHashJs(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto bytes = [&](size_t i, const char* what) {
        if (info.Length() <= i || !info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
            throw Napi::TypeError::New(env, std::string(what) + ": expected a Uint8Array");
        }
        return info[i].As<Napi::Uint8Array>();
    };
    Napi::Uint8Array coinbase = bytes(0, "coinbase");
    Napi::Uint8Array branch = bytes(1, "branch");
    Napi::Uint8Array header = bytes(2, "header");
    Napi::Uint8Array out = bytes(3, "out");
    if (branch.ByteLength() % 32 != 0) throw Napi::TypeError::New(env, "branch: expected a multiple of 32 bytes");
    if (header.ByteLength() != 80) throw Napi::TypeError::New(env, "header: expected 80 bytes");
    if (out.ByteLength() != 32) throw Napi::TypeError::New(env, "out: expected 32 bytes");
    ShareHash(coinbase.Data(), coinbase.ByteLength(), branch.Data(), branch.ByteLength() / 32, header.Data(), out.Data());
    return env.Undefined();
}

// --- Stratum V2's cipher (noise/chacha20poly1305.h) ---------------------------------------
// Both run on the calling thread: a frame is a few hundred bytes, a microsecond or two of work,
// far less than handing it to a thread. Lengths are checked in TypeScript first
// (src/stratum/v2/noise.ts) and again here.

// A typed array argument's bytes, with one napi_get_typedarray_info (the wrappers' checks cost
// three calls an argument, a measurable share of sealing one frame).
template <typename T>
struct Span {
    T* data;
    size_t size;  // elements
};

template <typename T>
Span<T> TypedArg(const Napi::CallbackInfo& info, size_t i, napi_typedarray_type want, const char* what, const char* type_name) {
    napi_typedarray_type type;
    size_t length = 0;
    void* data = nullptr;
    if (info.Length() <= i || napi_get_typedarray_info(info.Env(), info[i], &type, &length, &data, nullptr, nullptr) != napi_ok || type != want) {
        throw Napi::TypeError::New(info.Env(), std::string(what) + ": expected a " + type_name);
    }
    return {static_cast<T*>(data), length};
}

Span<uint8_t> BytesArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
    return TypedArg<uint8_t>(info, i, napi_uint8_array, what, "Uint8Array");
}

// The Noise message counter: an integer below 2^53 (JavaScript's exact range; sv2-spec §4.4.1
// reserves 2^64 - 1, which a connection can never reach at that rate).
uint64_t CounterArg(const Napi::CallbackInfo& info, size_t i) {
    const double n = info.Length() > i && info[i].IsNumber() ? info[i].As<Napi::Number>().DoubleValue() : -1;
    if (!(n >= 0 && n <= 9007199254740991.0 && n == double(uint64_t(n)))) {
        throw Napi::RangeError::New(info.Env(), "counter: expected an integer 0..2^53-1");
    }
    return uint64_t(n);
}

// aeadSeal(key, counter, ad, input, ends, out): the pieces input[ends[i-1]..ends[i]) sealed one
// after another with the nonces of counter, counter + 1, … (each with `ad`), written to `out`
// as ciphertext ‖ tag each (input.length + 16 × pieces bytes). Returns the number of pieces.
Napi::Value AeadSealJs(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Span<uint8_t> key = BytesArg(info, 0, "key");
    const uint64_t counter = CounterArg(info, 1);
    Span<uint8_t> ad = BytesArg(info, 2, "ad");
    Span<uint8_t> input = BytesArg(info, 3, "input");
    Span<uint32_t> ends = TypedArg<uint32_t>(info, 4, napi_uint32_array, "ends", "Uint32Array");
    Span<uint8_t> out = BytesArg(info, 5, "out");
    if (key.size != aead::kKeySize) throw Napi::RangeError::New(env, "key: expected 32 bytes");
    const size_t pieces = ends.size;
    if (pieces == 0 || ends.data[pieces - 1] != input.size) {
        throw Napi::RangeError::New(env, "ends: expected at least one piece, the last ending at input's length");
    }
    if (out.size != input.size + aead::kTagSize * pieces) {
        throw Napi::RangeError::New(env, "out: expected input's length + 16 bytes a piece");
    }
    if (double(counter) + double(pieces) > 9007199254740992.0) throw Napi::RangeError::New(env, "counter: the last piece's must stay below 2^53");
    size_t from = 0;
    for (size_t i = 0; i < pieces; ++i) {
        if (ends.data[i] < from) throw Napi::RangeError::New(env, "ends: expected piece ends in increasing order");
        from = ends.data[i];
    }
    aead::SealPieces(key.data, counter, ad.data, ad.size, input.data, ends.data, pieces, out.data);
    return Napi::Number::New(env, double(pieces));
}

// aeadOpen(key, counter, ad, input, inputOffset, inputLength, out, outOffset): the piece
// input[inputOffset, + inputLength) is ciphertext ‖ tag; true and the plaintext written at
// out[outOffset, + inputLength - 16) when the tag verifies, false (and those bytes zeroed)
// otherwise. Offsets rather than views: a frame is opened in place in the received bytes.
size_t IndexArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
    const double n = info.Length() > i && info[i].IsNumber() ? info[i].As<Napi::Number>().DoubleValue() : -1;
    if (!(n >= 0 && n <= 4294967295.0 && n == double(uint32_t(n)))) {
        throw Napi::RangeError::New(info.Env(), std::string(what) + ": expected an integer 0..2^32-1");
    }
    return size_t(n);
}

Napi::Value AeadOpenJs(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Span<uint8_t> key = BytesArg(info, 0, "key");
    const uint64_t counter = CounterArg(info, 1);
    Span<uint8_t> ad = BytesArg(info, 2, "ad");
    Span<uint8_t> input = BytesArg(info, 3, "input");
    const size_t in_at = IndexArg(info, 4, "inputOffset");
    const size_t in_len = IndexArg(info, 5, "inputLength");
    Span<uint8_t> out = BytesArg(info, 6, "out");
    const size_t out_at = IndexArg(info, 7, "outOffset");
    if (key.size != aead::kKeySize) throw Napi::RangeError::New(env, "key: expected 32 bytes");
    if (in_len < aead::kTagSize || in_at + in_len > input.size || out_at + in_len - aead::kTagSize > out.size) {
        throw Napi::RangeError::New(env, "input, out: expected a piece with its 16-byte tag inside input and room for its plaintext in out");
    }
    const size_t len = in_len - aead::kTagSize;
    const uint8_t* ct = input.data + in_at;
    uint8_t* to = out.data + out_at;
    if (uintptr_t(to) < uintptr_t(ct + in_len) && uintptr_t(ct) < uintptr_t(to + len)) throw Napi::RangeError::New(env, "out: expected not to overlap input");
    return Napi::Boolean::New(env, aead::OpenNoise(key.data, counter, ad.data, ad.size, ct, len, ct + len, to));
}

// chacha20(key, counter, nonce, input, out) and poly1305(key, message, out): the primitives
// under the AEAD, for RFC 8439's own vectors of each (test/stratum/sv2-aead.test.ts).
Napi::Value ChaCha20Js(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Span<uint8_t> key = BytesArg(info, 0, "key");
    const double counter = info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().DoubleValue() : -1;
    Span<uint8_t> nonce = BytesArg(info, 2, "nonce");
    Span<uint8_t> input = BytesArg(info, 3, "input");
    Span<uint8_t> out = BytesArg(info, 4, "out");
    if (!(counter >= 0 && counter <= 4294967295.0 && counter == double(uint32_t(counter)))) {
        throw Napi::RangeError::New(env, "counter: expected an integer 0..2^32-1");
    }
    if (key.size != aead::kKeySize || nonce.size != aead::kNonceSize || out.size != input.size) {
        throw Napi::RangeError::New(env, "key, nonce, out: expected 32 bytes, 12 bytes and input's length");
    }
    aead::ChaCha20Xor(key.data, uint32_t(counter), nonce.data, input.data, input.size, out.data);
    return env.Undefined();
}

Napi::Value Poly1305Js(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Span<uint8_t> key = BytesArg(info, 0, "key");
    Span<uint8_t> message = BytesArg(info, 1, "message");
    Span<uint8_t> out = BytesArg(info, 2, "out");
    if (key.size != 32 || out.size != 16) throw Napi::RangeError::New(env, "key, out: expected 32 and 16 bytes");
    aead::Poly1305(key.data, message.data, message.size, out.data);
    return env.Undefined();
}

// One update sent from the coordinator thread to JavaScript.
struct Update {
    std::vector<FoundNonce> found;
    uint64_t hashes = 0;
    double seconds = 0;
    bool done = false;
    bool stopped = false;
};

std::string Hex(const uint8_t* bytes, size_t n) {
    static const char digits[] = "0123456789abcdef";
    std::string out(n * 2, '0');
    for (size_t i = 0; i < n; ++i) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 15];
    }
    return out;
}

void DeliverUpdate(Napi::Env env, Napi::Function callback, Update* raw) {
    std::unique_ptr<Update> update(raw);
    if (env == nullptr || callback == nullptr) return;  // environment shutting down
    Napi::Array found = Napi::Array::New(env, update->found.size());
    for (size_t i = 0; i < update->found.size(); ++i) {
        Napi::Object item = Napi::Object::New(env);
        item.Set("nonce", Napi::Number::New(env, update->found[i].nonce));
        item.Set("version", Napi::Number::New(env, update->found[i].version));
        item.Set("hash", Hex(update->found[i].hash, 32));
        found.Set(uint32_t(i), item);
    }
    Napi::Object event = Napi::Object::New(env);
    event.Set("found", found);
    event.Set("hashes", Napi::Number::New(env, double(update->hashes)));
    event.Set("seconds", Napi::Number::New(env, update->seconds));
    event.Set("done", Napi::Boolean::New(env, update->done));
    event.Set("stopped", Napi::Boolean::New(env, update->stopped));
    callback.Call({event});
}

// new ScanJob({header, target, start, count, backend, threads, progressMs, stopOnFound,
//              versions?, affinity?, priority?, cpuLimit?}, onUpdate)
// starts at once; onUpdate({found, hashes, seconds, done, stopped}) is called with the
// (version, nonce) pairs found so far, then every progressMs with the hash count (nonces ×
// versions), and once with done = true. versions: the header versions to hash each nonce
// with (1..16 distinct u32); the header's own version when absent.
class ScanJob : public Napi::ObjectWrap<ScanJob> {
public:
    static Napi::Function Define(Napi::Env env) {
        return DefineClass(env, "ScanJob", {InstanceMethod("stop", &ScanJob::Stop)});
    }

    explicit ScanJob(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ScanJob>(info) {
        Napi::Env env = info.Env();
        if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsFunction()) {
            throw Napi::TypeError::New(env, "ScanJob: expected (options, onUpdate)");
        }
        Napi::Object options = info[0].As<Napi::Object>();
        ScanRequest request;
        if (!CopyBytes(options.Get("header"), request.header, 80)) {
            throw Napi::TypeError::New(env, "header: expected a Uint8Array of 80 bytes");
        }
        if (!CopyBytes(options.Get("target"), request.target, 32)) {
            throw Napi::TypeError::New(env, "target: expected a Uint8Array of 32 bytes");
        }
        ReadVersions(env, options.Get("versions"), request);
        const double start = options.Get("start").ToNumber().DoubleValue();
        const double count = options.Get("count").ToNumber().DoubleValue();
        if (!(start >= 0 && start < double(kNonceSpace) && start == double(uint64_t(start)))) {
            throw Napi::RangeError::New(env, "start: expected an integer 0..4294967295");
        }
        if (!(count >= 1 && count <= double(kNonceSpace) && count == double(uint64_t(count))) ||
            uint64_t(start) + uint64_t(count) > kNonceSpace) {
            throw Napi::RangeError::New(env, "count: expected 1..2^32 with start + count <= 2^32");
        }
        request.start = uint32_t(start);
        request.count = uint64_t(count);
        const double threads = options.Get("threads").ToNumber().DoubleValue();
        if (!(threads >= 1 && threads <= 1024)) {
            throw Napi::RangeError::New(env, "threads: expected 1..1024");
        }
        request.threads = unsigned(threads);
        const std::string name = options.Get("backend").ToString().Utf8Value();
        request.backend = UsableBackend(env, name);
        request.stop_on_found = options.Get("stopOnFound").ToBoolean().Value();
        ReadGovernance(env, options, request);
        const double progress = options.Get("progressMs").ToNumber().DoubleValue();
        progress_ = std::chrono::milliseconds(progress >= 1 && progress <= 60000 ? int(progress) : 100);

        // The clock starts before the first worker does: a rate over a short scan must not
        // count hashes done before the clock started (absurd figures under emulation).
        began_ = std::chrono::steady_clock::now();
        scanner_ = std::make_unique<Scanner>(request);
        const std::string error = scanner_->Start();
        if (!error.empty()) throw Napi::Error::New(env, error);
        tsfn_ = Napi::ThreadSafeFunction::New(env, info[1].As<Napi::Function>(), "solominer.scan", 0, 1);
        coordinator_ = std::thread(&ScanJob::Coordinate, this);
    }

    ~ScanJob() override {
        if (scanner_) scanner_->RequestStop();
        if (coordinator_.joinable()) coordinator_.join();
    }

private:
    // versions: an array of 1..kMaxVersions distinct integers 0..2^32-1, or absent (then the
    // header's own version).
    static void ReadVersions(Napi::Env env, const Napi::Value& value, ScanRequest& request) {
        if (value.IsUndefined()) {
            const uint8_t* h = request.header;
            request.versions[0] = uint32_t(h[0]) | (uint32_t(h[1]) << 8) | (uint32_t(h[2]) << 16) |
                                  (uint32_t(h[3]) << 24);
            request.version_count = 1;
            return;
        }
        const std::string expected = "versions: expected 1.." + std::to_string(kMaxVersions) +
                                     " distinct integers 0..4294967295";
        if (!value.IsArray()) throw Napi::TypeError::New(env, expected);
        const Napi::Array list = value.As<Napi::Array>();
        if (list.Length() < 1 || list.Length() > kMaxVersions) throw Napi::RangeError::New(env, expected);
        for (uint32_t i = 0; i < list.Length(); ++i) {
            const double v = list.Get(i).ToNumber().DoubleValue();
            if (!(v >= 0 && v <= 4294967295.0 && v == double(uint64_t(v)))) {
                throw Napi::RangeError::New(env, expected);
            }
            for (uint32_t j = 0; j < i; ++j) {
                if (request.versions[j] == uint32_t(v)) throw Napi::RangeError::New(env, expected);
            }
            request.versions[i] = uint32_t(v);
        }
        request.version_count = list.Length();
    }

    // affinity (array of CPU indices), priority ('idle' | 'low' | 'normal'), cpuLimit (1..100):
    // each optional.
    static void ReadGovernance(Napi::Env env, Napi::Object options, ScanRequest& request) {
        const Napi::Value affinity = options.Get("affinity");
        if (!affinity.IsUndefined()) {
            if (!affinity.IsArray()) throw Napi::TypeError::New(env, "affinity: expected an array of CPU indices");
            const Napi::Array list = affinity.As<Napi::Array>();
            if (list.Length() == 0 || list.Length() > 1024) {
                throw Napi::RangeError::New(env, "affinity: expected 1..1024 CPU indices");
            }
            for (uint32_t i = 0; i < list.Length(); ++i) {
                const double cpu = list.Get(i).ToNumber().DoubleValue();
                if (!(cpu >= 0 && cpu < 1024 && cpu == double(int(cpu)))) {
                    throw Napi::RangeError::New(env, "affinity: expected CPU indices 0..1023");
                }
                request.affinity.push_back(int(cpu));
            }
        }
        const Napi::Value priority = options.Get("priority");
        if (!priority.IsUndefined()) {
            const std::string p = priority.ToString().Utf8Value();
            if (p == "idle") {
                request.priority = ThreadPriority::kIdle;
            } else if (p == "low") {
                request.priority = ThreadPriority::kLow;
            } else if (p != "normal") {
                throw Napi::RangeError::New(env, "priority: expected idle, low or normal");
            }
        }
        const Napi::Value limit = options.Get("cpuLimit");
        if (!limit.IsUndefined()) {
            const double percent = limit.ToNumber().DoubleValue();
            if (!(percent >= 1 && percent <= 100 && percent == double(int(percent)))) {
                throw Napi::RangeError::New(env, "cpuLimit: expected an integer 1..100");
            }
            request.cpu_limit = unsigned(percent);
        }
    }

    Napi::Value Stop(const Napi::CallbackInfo& info) {
        if (scanner_) scanner_->RequestStop();
        return info.Env().Undefined();
    }

    // Runs on its own thread: forwards found nonces as soon as they appear (they may be
    // blocks, and latency matters) and the hash count every progress_ interval.
    void Coordinate() {
        using Clock = std::chrono::steady_clock;
        const auto began = began_;
        // At trivial targets nonces are found continuously; at most one update a millisecond
        // keeps the main thread from drowning in calls while still answering within 1 ms.
        constexpr auto kMinGap = std::chrono::milliseconds(1);
        bool done = false;
        while (!done) {
            done = scanner_->WaitFor(progress_);
            auto* update = new Update;
            scanner_->TakeFound(update->found);
            update->hashes = scanner_->HashesDone();
            update->seconds = std::chrono::duration<double>(Clock::now() - began).count();
            update->done = done;
            update->stopped = scanner_->StopRequested();
            if (tsfn_.BlockingCall(update, DeliverUpdate) != napi_ok) delete update;
            if (!done) std::this_thread::sleep_for(kMinGap);
        }
        scanner_->Join();
        tsfn_.Release();
    }

    std::unique_ptr<Scanner> scanner_;
    Napi::ThreadSafeFunction tsfn_;
    std::thread coordinator_;
    std::chrono::milliseconds progress_{100};
    std::chrono::steady_clock::time_point began_;
};

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
    exports.Set("cpuFeatures", Napi::Function::New(env, CpuFeaturesJs, "cpuFeatures"));
    exports.Set("backends", Napi::Function::New(env, BackendsJs, "backends"));
    exports.Set("sha256dHeader", Napi::Function::New(env, Sha256dHeaderJs, "sha256dHeader"));
    exports.Set("merkleBranch", Napi::Function::New(env, MerkleBranchJs, "merkleBranch"));
    exports.Set("merkleRoot", Napi::Function::New(env, MerkleRootJs, "merkleRoot"));
    exports.Set("shareHash", Napi::Function::New(env, ShareHashJs, "shareHash"));
    exports.Set("aeadSeal", Napi::Function::New(env, AeadSealJs, "aeadSeal"));
    exports.Set("aeadOpen", Napi::Function::New(env, AeadOpenJs, "aeadOpen"));
    exports.Set("chacha20", Napi::Function::New(env, ChaCha20Js, "chacha20"));
    exports.Set("poly1305", Napi::Function::New(env, Poly1305Js, "poly1305"));
    exports.Set("allowedCpus", Napi::Function::New(env, AllowedCpusJs, "allowedCpus"));
    exports.Set("probeBackend", Napi::Function::New(env, ProbeBackendJs, "probeBackend"));
    exports.Set("ScanJob", ScanJob::Define(env));
    return exports;
}

}  // namespace solominer

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return solominer::Init(env, exports); }

NODE_API_MODULE(solominer_native, InitAddon)

// AEAD_CHACHA20_POLY1305 (RFC 8439 §2.8), the cipher of Stratum V2's Noise sessions.
//
// Why it is written here rather than called through node:crypto: every frame of Stratum V2 is
// two AEAD operations (the 6-byte header, then the payload), and node:crypto spends ~6-10 µs
// setting up each one (a cipher object, its context, the tag) to encrypt a few dozen bytes in
// well under one. A new tip is two frames per connection and a share is two frames in and two
// out, so that set-up was most of the pool's CPU for Stratum V2 (docs/stratum.md, "Speed").
// This file does the cipher in plain, portable C++17 (no instruction-set intrinsics: the same
// code on x86-64 and arm64) and lets one call seal several pieces with consecutive nonces, so a
// tip's frames for one connection cost one call and one socket write.
//
// Tested against RFC 8439's own vectors and against node:crypto on random keys, nonces, lengths
// and associated data (test/stratum/sv2-aead.test.ts).
#pragma once

#include <cstddef>
#include <cstdint>

namespace solominer {
namespace aead {

constexpr size_t kKeySize = 32;
constexpr size_t kNonceSize = 12;
constexpr size_t kTagSize = 16;

// RFC 8439 §2.3-2.4: XORs `len` bytes of the ChaCha20 key stream (block counter `counter`
// onwards) into `in`, writing `out` (which may equal `in`).
void ChaCha20Xor(const uint8_t key[kKeySize], uint32_t counter, const uint8_t nonce[kNonceSize], const uint8_t* in, size_t len,
                 uint8_t* out);

// RFC 8439 §2.5: the 16-byte Poly1305 tag of `len` bytes under a one-time key.
void Poly1305(const uint8_t key[32], const uint8_t* msg, size_t len, uint8_t tag[16]);

// §2.8 encryption of `pieces` messages at once: piece i is input[ends[i-1]..ends[i]) (from 0),
// sealed with `ad` under the Noise nonce (sv2-spec §4.4.1: 4 zero bytes, then the counter as
// 64-bit little-endian) of counter + i, and written to `out` as its ciphertext then its 16-byte
// tag. `ends` must increase and `out` hold input's length + 16 bytes a piece; `out` must not
// overlap `input`. The key stream of all pieces is made four blocks at a time.
void SealPieces(const uint8_t key[kKeySize], uint64_t counter, const uint8_t* ad, size_t ad_len, const uint8_t* input,
                const uint32_t* ends, size_t pieces, uint8_t* out);

// §2.8 decryption of `len` bytes of ciphertext with its tag under the Noise nonce of `counter`:
// false, and `out` zeroed, when the tag does not verify (compared in time independent of the
// bytes). `out` must not overlap `ciphertext`.
bool OpenNoise(const uint8_t key[kKeySize], uint64_t counter, const uint8_t* ad, size_t ad_len, const uint8_t* ciphertext,
               size_t len, const uint8_t tag[kTagSize], uint8_t* out);

}  // namespace aead
}  // namespace solominer

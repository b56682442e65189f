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

// §2.8 encryption: `out` receives the ciphertext (len bytes) followed by the tag (16 bytes).
// `out` may equal `plaintext`.
void Seal(const uint8_t key[kKeySize], const uint8_t nonce[kNonceSize], const uint8_t* ad, size_t ad_len, const uint8_t* plaintext,
          size_t len, uint8_t* out);

// §2.8 decryption of `len` bytes of ciphertext with its tag: false (and `out` untouched) when
// the tag does not verify; the comparison takes the same time whatever the bytes.
bool Open(const uint8_t key[kKeySize], const uint8_t nonce[kNonceSize], const uint8_t* ad, size_t ad_len, const uint8_t* ciphertext,
          size_t len, const uint8_t tag[kTagSize], uint8_t* out);

// The Noise nonce of sv2-spec §4.4.1: 4 zero bytes, then the 64-bit counter little-endian.
void NoiseNonce(uint64_t counter, uint8_t nonce[kNonceSize]);

}  // namespace aead
}  // namespace solominer

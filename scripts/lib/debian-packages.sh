# debian-packages.sh — unpack Debian packages into a private folder, without touching the system.
# Sourced (not run) by scripts/provision-*.sh after they set ME (their name, for messages) and
# CACHE (the cache root, <repo>/.cache by default).
#
# apt runs with a private configuration under $CACHE/apt: its own sources list, package lists,
# dpkg status (empty) and download folder; nothing is installed and no root is needed. The mirrors
# are read at run time from this machine's apt sources (never written into the repository):
#   SOLOMINER_DEBIAN_MIRROR            the main archive (default: the first non-security URI)
#   SOLOMINER_DEBIAN_SECURITY_MIRROR   the security archive (default: the security URI, if any)
#   SOLOMINER_DEBIAN_KEYRING           the keyring for both (default: their Signed-By:)
# Every script sees the same suites (sid, <stable>, <stable>-backports, <stable>-security), so
# one `apt-get update` a day serves them all, and a downloaded .deb is kept in $CACHE/apt/archives
# and reused by any later run that wants the same file.
#
# Functions, in the order a script calls them:
#   deb_options "<flags>" "$@"
#                            the script's arguments: VERIFY, FORCE, FULL, NO_SYSTEM are 1 for
#                            --verify, --force, --full, --no-system (those of <flags> it takes);
#                            --help prints the script's header comment
#   deb_arch                 ARCH, TRIPLET, LDSO of this machine
#   deb_cached <ok-fn> <hit-fn> [force]
#                            lock $CACHE against other provisioning runs; if <ok-fn> says the
#                            result is complete (before or after waiting for the lock), run <hit-fn>
#                            and exit 0. With force=1 only the lock is taken.
#   deb_apt_setup            the private apt (sources, lists updated at most daily): sets APTO
#   deb_plan <status> <release> <package>...
#                            PLAN=(name=version ...): what `apt-get install --no-install-recommends`
#                            would install on a system whose dpkg status is <status> (the machine's
#                            /var/lib/dpkg/status: only what it lacks; $DEB_EMPTY_STATUS: the whole
#                            closure), preferring <release>; names matching $DEB_SKIP are left out
#   deb_fetch <name=version|name/suite>...
#                            download what is not in $CACHE/apt/archives yet; DEBS=(paths)
#   deb_unpack <sysroot>     dpkg-deb -x every file of DEBS into <sysroot>
#   deb_libpath <sysroot>    the library folders of an unpacked sysroot, for LD_LIBRARY_PATH
#   deb_libs_resolve <libpath> <file>...
#                            every shared library the files need resolves (ldd with <libpath>
#                            first); the missing ones are listed on stderr
#   deb_stage <name>         STAGE: an empty folder beside $CACHE/<name>, removed on exit unless committed
#   deb_commit <name>        move STAGE to $CACHE/<name>, replacing the old one

die() { echo "$ME: error: $*" >&2; exit 1; }
log() { echo "$ME: $*" >&2; }
need() { command -v "$1" >/dev/null 2>&1 || die "'$1' is required but was not found on PATH"; }

APT=$CACHE/apt
DEB_EMPTY_STATUS=$APT/state/status
# Packages a process started on this machine always takes from the system: mixing another libc
# into a process through LD_LIBRARY_PATH breaks it, and the rest are not libraries at all.
DEB_SKIP='^(libc6|libc-bin|libgcc-s1|libstdc\+\+6|gcc-[0-9]+-base|debconf|perl-base|dpkg|base-files)$'
STAGE=""
deb_on_exit() { if [[ -n $STAGE ]]; then rm -rf "$STAGE"; fi; }
trap deb_on_exit EXIT

deb_options() {
  local takes=" $1 " a; shift
  VERIFY=0 FORCE=0 FULL=0 NO_SYSTEM=0
  for a in "$@"; do
    case $a in -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 0 ;; esac
    [[ $takes == *" $a "* ]] || die "unknown argument '$a' (try --help)"
    case $a in
      --verify) VERIFY=1 ;;
      --force) FORCE=1 ;;
      --full) FULL=1 ;;
      --no-system) NO_SYSTEM=1 ;;
    esac
  done
}

deb_arch() {
  need dpkg
  ARCH=$(dpkg --print-architecture)
  case $ARCH in
    amd64) TRIPLET=x86_64-linux-gnu LDSO=ld-linux-x86-64.so.2 ;;
    arm64) TRIPLET=aarch64-linux-gnu LDSO=ld-linux-aarch64.so.1 ;;
    *) die "unsupported architecture '$ARCH' (amd64 and arm64 are known)" ;;
  esac
}

deb_cached() {
  local ok=$1 hit=$2 force=${3:-0}
  if [[ $force == 0 ]] && "$ok"; then "$hit" "cache hit"; exit 0; fi
  need flock
  mkdir -p "$CACHE"
  exec 9>"$CACHE/.provision.lock"
  if ! flock -n 9; then log "waiting for another provisioning run (lock $CACHE/.provision.lock)"; flock 9; fi
  if [[ $force == 0 ]] && "$ok"; then "$hit" "cache hit after wait"; exit 0; fi
  return 0
}

# MIRROR, SECURITY_MIRROR (may be empty), KEYRING, STABLE from this machine's apt sources
deb_find_sources() {
  MIRROR=${SOLOMINER_DEBIAN_MIRROR:-} SECURITY_MIRROR=${SOLOMINER_DEBIAN_SECURITY_MIRROR:-}
  KEYRING=${SOLOMINER_DEBIAN_KEYRING:-}
  local f=/etc/apt/sources.list.d/debian.sources found="" main="" sec="" key=""
  if [[ -r $f ]]; then
    # deb822 stanzas: "main|security <first URI> <Signed-By path>" for each stanza with URIs
    found=$(awk 'BEGIN{RS=""; FS="\n"} {u="";s="";k=""; for(i=1;i<=NF;i++){
              if($i ~ /^URIs:/){sub(/^URIs:[ \t]*/,"",$i); split($i,a,/[ \t]+/); u=a[1]}
              else if($i ~ /^Suites:/){s=$i}
              else if($i ~ /^Signed-By:[ \t]*\//){sub(/^Signed-By:[ \t]*/,"",$i); k=$i} }
            if(u!=""){print ((u ~ /security/ || s ~ /security/) ? "security" : "main"), u, k}}' "$f")
  fi
  if [[ -r /etc/apt/sources.list ]]; then
    found+=$'\n'$(awk '$1=="deb"{for(i=2;i<=NF;i++) if($i ~ /^[a-z]+:\/\//){
                    print (($i ~ /security/ || $(i+1) ~ /security/) ? "security" : "main"), $i; break}}' /etc/apt/sources.list)
  fi
  main=$(awk '$1=="main"{print $2; exit}' <<<"$found")
  sec=$(awk '$1=="security"{print $2; exit}' <<<"$found")
  key=$(awk '$1=="main" && $3!=""{print $3; exit}' <<<"$found")
  [[ -n $MIRROR ]] || MIRROR=$main
  [[ -n $SECURITY_MIRROR ]] || SECURITY_MIRROR=$sec
  [[ -n $KEYRING ]] || KEYRING=${key:-/usr/share/keyrings/debian-archive-keyring.gpg}
  [[ -n $MIRROR ]] || die "no Debian mirror found in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list; set SOLOMINER_DEBIAN_MIRROR"
  MIRROR=${MIRROR%/} SECURITY_MIRROR=${SECURITY_MIRROR%/}
  [[ -r $KEYRING ]] || die "Debian archive keyring $KEYRING not readable; set SOLOMINER_DEBIAN_KEYRING"
  STABLE=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
  [[ -n $STABLE ]] || die "cannot tell the Debian release (VERSION_CODENAME in /etc/os-release)"
}

deb_apt_setup() {
  need apt-get; need dpkg-deb
  [[ -n ${ARCH:-} ]] || deb_arch
  deb_find_sources
  mkdir -p "$APT/lists/partial" "$APT/archives/partial" "$APT/state" "$APT/etc"
  : >>"$DEB_EMPTY_STATUS"
  local src="$APT/etc/sources.list.new"
  {
    echo "deb [signed-by=$KEYRING] $MIRROR sid main"
    echo "deb [signed-by=$KEYRING] $MIRROR $STABLE main"
    echo "deb [signed-by=$KEYRING] $MIRROR $STABLE-backports main"
    [[ -z $SECURITY_MIRROR ]] || echo "deb [signed-by=$KEYRING] $SECURITY_MIRROR $STABLE-security main"
  } >"$src"
  if ! cmp -s "$src" "$APT/etc/sources.list" 2>/dev/null; then mv -f "$src" "$APT/etc/sources.list"; rm -f "$APT/updated"; else rm -f "$src"; fi
  APTO=(-o "Dir::Etc::SourceList=$APT/etc/sources.list" -o Dir::Etc::SourceParts=/dev/null
        -o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts=/dev/null
        -o "Dir::State=$APT/state" -o "Dir::State::Lists=$APT/lists" -o "Dir::State::status=$DEB_EMPTY_STATUS"
        -o "Dir::Cache=$APT" -o "Dir::Cache::Archives=$APT/archives"
        -o "APT::Architectures=$ARCH" -o Acquire::Languages=none -o Debug::NoLocking=1 -q)
  [[ $(id -u) == 0 ]] && APTO+=(-o APT::Sandbox::User=root)
  deb_update 0
}

deb_update() {   # $1=1: even if the lists are less than a day old
  if [[ ${1:-0} == 1 || ! -f $APT/updated || -n $(find "$APT/updated" -mmin +1440 2>/dev/null) ]]; then
    log "apt update (private lists in $APT/lists; suites sid $STABLE $STABLE-backports${SECURITY_MIRROR:+ $STABLE-security})"
    apt-get "${APTO[@]}" update >"$APT/update.log" 2>&1 || { tail -n 5 "$APT/update.log" >&2; die "private apt-get update failed (log: $APT/update.log)"; }
    grep -E '^(W|E):' "$APT/update.log" >&2 || true
    # apt only warns when a mirror cannot be reached: lists of an earlier update are still good
    # enough, no lists at all are not
    local failed
    failed=$(grep -m1 '^W: Failed to fetch' "$APT/update.log" || true)
    if [[ -n $failed ]]; then
      [[ -f $APT/updated ]] || die "no package lists: ${failed#W: } (log: $APT/update.log)"
      log "warning: keeping the package lists of an earlier update"
      return 0
    fi
    touch "$APT/updated"
  fi
}

# This machine's dpkg status without the packages whose names match the extended regex $1: a
# plan against it unpacks those packages (and what only they need) even where the machine has
# installed them itself, so that a cache is whole whatever the machine happens to have.
# Prints the filtered file's path.
deb_status_without() {
  local out=$APT/status-without
  awk -v re="$1" 'BEGIN { RS = ""; ORS = "\n\n" } { split($0, f, "\n"); name = f[1]; sub(/^Package: /, "", name); if (name !~ re) print }' \
    /var/lib/dpkg/status >"$out" 2>/dev/null || : >"$out"
  echo "$out"
}

deb_plan() {
  local status=$1 release=$2 plan name rest ver; shift 2
  [[ -r $status ]] || status=$DEB_EMPTY_STATUS
  sim() { apt-get "${APTO[@]}" -o "Dir::State::status=$1" -o "APT::Default-Release=$release" -s --no-install-recommends install "${@:2}" 2>&1; }
  if ! plan=$(sim "$status" "$@"); then
    [[ $status != "$DEB_EMPTY_STATUS" ]] || { grep '^E:' <<<"$plan" >&2; die "cannot resolve $* (release $release)"; }
    log "warning: resolving against this machine's packages failed; taking the whole dependency closure"
    plan=$(sim "$DEB_EMPTY_STATUS" "$@") || { grep '^E:' <<<"$plan" >&2; die "cannot resolve $* (release $release)"; }
  fi
  # "Inst name [old] (version suite [arch])": that exact version
  PLAN=()
  while read -r _ name rest; do
    [[ $name =~ $DEB_SKIP ]] && continue
    ver=$(sed -n 's/^\(\[[^]]*\] \)\{0,1\}(\([^ ]*\) .*/\2/p' <<<"$rest")
    [[ -n $ver ]] || die "cannot parse apt plan line: Inst $name $rest"
    PLAN+=("$name=$ver")
  done < <(grep '^Inst ' <<<"$plan")
  ((${#PLAN[@]})) || die "apt plan for $* is empty"
}

deb_fetch() {
  local uris want=() file size arg
  declare -A by_name=()
  for arg in "$@"; do by_name[${arg%%[=/]*}]=$arg; done
  # "'URI' name_version_arch.deb size hash" per package: what to unpack, and what is cached
  get_uris() { apt-get "${APTO[@]}" --print-uris download "$@" 2>"$APT/download.log"; }
  uris=$(get_uris "$@") || { deb_update 1; uris=$(get_uris "$@"); } ||
    { grep -E '^(E|W):' "$APT/download.log" >&2 || tail -n 5 "$APT/download.log" >&2; die "apt-get cannot find: $*"; }
  DEBS=()
  while read -r _ file size _; do
    [[ -n $file ]] || continue
    DEBS+=("$APT/archives/$file")
    [[ -f $APT/archives/$file && $(stat -c %s "$APT/archives/$file") == "$size" ]] && continue
    arg=${by_name[${file%%_*}]:-}
    [[ -n $arg ]] || die "apt-get --print-uris named $file, which is none of: $*"
    want+=("$arg")
  done <<<"$uris"
  ((${#DEBS[@]} == $#)) || die "apt-get --print-uris named ${#DEBS[@]} files for $# packages: $*"
  ((${#want[@]})) || { log "all ${#DEBS[@]} packages already downloaded ($APT/archives)"; return 0; }
  log "downloading ${#want[@]} of ${#DEBS[@]} packages: ${want[*]}"
  (cd "$APT/archives" && apt-get "${APTO[@]}" download "${want[@]}" >"$APT/download.log" 2>&1) ||
    { grep -E '^(E|W):' "$APT/download.log" >&2 || tail -n 5 "$APT/download.log" >&2; die "apt-get download failed: ${want[*]}"; }
  for file in "${DEBS[@]}"; do [[ -f $file ]] || die "apt-get download left no $file"; done
}

deb_unpack() {
  local d
  for d in "${DEBS[@]}"; do dpkg-deb -x "$d" "$1" || die "dpkg-deb -x $d failed"; done
}

deb_libpath() { echo "$1/usr/lib/$TRIPLET:$1/lib/$TRIPLET"; }

deb_libs_resolve() {
  local libpath=$1 f out missing=""; shift
  need ldd
  for f in "$@"; do
    [[ -f $f ]] || { log "missing: $f"; return 1; }
    out=$(LD_LIBRARY_PATH=$libpath ldd "$f" 2>&1) || { log "ldd $f failed: $out"; return 1; }
    missing+=$(grep 'not found' <<<"$out" | sed "s|^[[:space:]]*|  missing for ${f##*/}: |")
  done
  [[ -z $missing ]] || { echo "$missing" >&2; return 1; }
}

deb_stage() {
  STAGE=$(mktemp -d "$CACHE/$1.tmp.XXXXXX")
  chmod 755 "$STAGE"
}

deb_commit() {
  local final=$CACHE/$1
  # readers see either the old complete folder or the new one (both under the lock)
  if [[ -e $final ]]; then mv "$final" "$final.old.$$"; fi
  mv "$STAGE" "$final"
  STAGE=""
  rm -rf "$final.old.$$"
}

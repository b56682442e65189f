#!/usr/bin/env bash
# provision-node-lines.sh — the Node.js LTS lines the suite is run on (npm run test:node-lines),
# from the npm registry's node-linux-<arch> packages (the official builds), each into
# <cache>/node-lines/<major>/bin/node. No npm comes with them: the tests run npm's own CLI with
# the line's node.
#
# Usage: scripts/provision-node-lines.sh [--force] [<major> ...]   (default: 22 24 26)
#   --force   fetch again even if a line is there (a newer release of the line)
# Environment: SOLOMINER_CACHE (cache root, default <repo>/.cache).
# Output: the last stdout line lists the node binaries, colon-separated, in the order asked;
# everything else goes to stderr.
set -euo pipefail

ME=provision-node-lines
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
CACHE=${SOLOMINER_CACHE:-$REPO/.cache}
. "$REPO/scripts/lib/debian-packages.sh"
. "$REPO/scripts/lib/npm-node.sh"

FORCE=0 MAJORS=()
for a in "$@"; do
  case $a in
    --force) FORCE=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 0 ;;
    [0-9]*) MAJORS+=("$a") ;;
    *) die "unknown argument '$a' (try --help)" ;;
  esac
done
((${#MAJORS[@]})) || MAJORS=(22 24 26)
case $(uname -m) in
  x86_64) OSARCH=linux-x64 ;;
  aarch64) OSARCH=linux-arm64 ;;
  *) die "no node-linux package for $(uname -m)" ;;
esac

line_ok() { [[ -x $1/bin/node ]] && [[ $("$1/bin/node" -p 'process.versions.node.split(".")[0]' 2>/dev/null) == "$2" ]]; }

need flock
mkdir -p "$CACHE/node-lines"
exec 9>"$CACHE/.provision.lock"
flock 9
OUT=()
for major in "${MAJORS[@]}"; do
  dir=$CACHE/node-lines/$major
  if [[ $FORCE == 0 ]] && line_ok "$dir" "$major"; then
    log "cache hit: node $("$dir/bin/node" --version) in $dir"
  else
    log "fetching node-$OSARCH@$major from the npm registry"
    rm -rf "$dir.tmp"
    npm_node "$OSARCH" "$major" "$dir.tmp"
    line_ok "$dir.tmp" "$major" || die "node-$OSARCH@$major does not run here: $("$dir.tmp/bin/node" --version 2>&1 | head -1)"
    rm -rf "$dir"
    mv "$dir.tmp" "$dir"
    log "ready: node $("$dir/bin/node" --version) in $dir"
  fi
  OUT+=("$dir/bin/node")
done
(IFS=:; echo "${OUT[*]}")

#!/usr/bin/env bash
# container-base.sh — make sure the Dockerfile's base image, node:<line>-bookworm-slim, exists in
# the local Docker daemon. TEST-ONLY: the real image is pulled from Docker's registry; where no
# image registry can be reached (CI machines here), a stand-in with the same name is built:
#
#   debian:bookworm-slim           `debootstrap --variant=minbase bookworm` from the Debian mirror
#                                  of this machine's apt sources (read at run time, as every
#                                  provision script does; its apt told to accept a snapshot
#                                  mirror's old Release files when the host's apt is), imported
#                                  as an image
#   node:<line>-bookworm-slim      that, plus the Node binary of the npm registry's
#                                  node-linux-<arch> package, npm from the `npm` package, the user
#                                  `node` (uid 1000) as in the official image, and npm told to trust
#                                  this machine's CA bundle (TLS to the registry may pass a proxy
#                                  whose CA only the host trusts). The real image has none of this.
#
# Order: the image is already there > `docker pull` > a `docker save` of an earlier stand-in in
# $SOLOMINER_CACHE/container > a new stand-in (about 3 minutes), saved there for the next run.
#
# Usage: scripts/container-base.sh [<node line>]     (default 24)
# Environment: DOCKER (default: docker), SOLOMINER_CACHE (default <repo>/.cache),
#              SOLOMINER_DEBIAN_MIRROR, SOLOMINER_DEBIAN_KEYRING (scripts/lib/debian-packages.sh)
# Output: the last stdout line is the image name; everything else goes to stderr.
set -euo pipefail

ME=container-base
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
CACHE=${SOLOMINER_CACHE:-$REPO/.cache}
. "$REPO/scripts/lib/debian-packages.sh"

LINE=${1:-24}
[[ $LINE =~ ^[0-9]+$ ]] || die "expected a Node major version such as 24, got '$LINE'"
DOCKER=${DOCKER:-docker}
IMAGE=node:$LINE-bookworm-slim
DEBIAN=debian:bookworm-slim
SAVED=$CACHE/container/standin-node$LINE-bookworm-slim.tar

have() { "$DOCKER" image inspect "$1" >/dev/null 2>&1; }

if have "$IMAGE"; then log "$IMAGE is present"; echo "$IMAGE"; exit 0; fi
if timeout 60 "$DOCKER" pull -q "$IMAGE" >/dev/null 2>&1; then log "pulled $IMAGE"; echo "$IMAGE"; exit 0; fi
log "$IMAGE cannot be pulled here; using a stand-in (test-only)"

mkdir -p "$CACHE/container"
exec 9>"$CACHE/container/.lock"
flock 9
if have "$IMAGE"; then echo "$IMAGE"; exit 0; fi
if [[ -s $SAVED ]]; then
  "$DOCKER" load -q -i "$SAVED" >&2 || die "docker load $SAVED failed"
  have "$IMAGE" || die "$SAVED did not hold $IMAGE"
  log "loaded the stand-in from $SAVED"
  echo "$IMAGE"; exit 0
fi

need debootstrap
need npm
deb_arch
case $ARCH in amd64) NODE_ARCH=x64 ;; arm64) NODE_ARCH=arm64 ;; esac
deb_find_sources
T0=$SECONDS
WORK=$(mktemp -d "${TMPDIR:-/tmp}/solominer-base.XXXXXX")
trap 'rm -rf "$WORK"; deb_on_exit' EXIT

if ! have "$DEBIAN"; then
  log "debootstrap --variant=minbase bookworm from $MIRROR (a few minutes)"
  debootstrap --variant=minbase --keyring="$KEYRING" bookworm "$WORK/rootfs" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 ||
    { tail -n 20 "$WORK/debootstrap.log" >&2; die "debootstrap failed"; }
  rm -rf "$WORK/rootfs/var/lib/apt/lists/"* "$WORK/rootfs/var/cache/apt/"*.bin "$WORK/rootfs/var/cache/apt/archives/"*.deb
  # A mirror that serves a frozen snapshot (this machine's apt says so) has Release files past
  # their Valid-Until: apt inside the image must accept them as the host's apt does.
  # (grep without -q reads all of apt-config's output: an early exit would fail the pipeline)
  if apt-config dump 2>/dev/null | grep -i '^Acquire::Check-Valid-Until "false";' >/dev/null; then
    echo 'Acquire::Check-Valid-Until "false";' >"$WORK/rootfs/etc/apt/apt.conf.d/99standin-snapshot-mirror"
  fi
  tar -C "$WORK/rootfs" -c . | "$DOCKER" import -c 'CMD ["bash"]' - "$DEBIAN" >/dev/null
  rm -rf "$WORK/rootfs"
  log "imported $DEBIAN (stand-in) after $((SECONDS - T0)) s"
fi

log "node-linux-$NODE_ARCH@$LINE and npm from the npm registry"
mkdir -p "$WORK/ctx"
(cd "$WORK" && npm pack --silent "node-linux-$NODE_ARCH@$LINE" npm@latest >/dev/null) || die "npm pack node-linux-$NODE_ARCH@$LINE npm failed"
tar -xzf "$WORK"/node-linux-"$NODE_ARCH"-*.tgz -C "$WORK"
mv "$WORK/package/bin/node" "$WORK/ctx/node"
rm -rf "$WORK/package"
tar -xzf "$WORK"/npm-*.tgz -C "$WORK"
mv "$WORK/package" "$WORK/ctx/npm"
VERSION=$("$WORK/ctx/node" --version 2>/dev/null || true)
[[ $VERSION == v$LINE.* ]] || die "the node-linux-$NODE_ARCH@$LINE package holds ${VERSION:-no runnable node}"
cp /etc/ssl/certs/ca-certificates.crt "$WORK/ctx/host-ca.crt" 2>/dev/null || die "this machine has no /etc/ssl/certs/ca-certificates.crt to trust"
cat >"$WORK/ctx/Dockerfile" <<EOF
FROM $DEBIAN
ENV NODE_VERSION=${VERSION#v}
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
COPY host-ca.crt /usr/local/share/standin-host-ca.crt
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \\
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \\
 && mkdir -p /usr/local/etc && echo cafile=/usr/local/share/standin-host-ca.crt >/usr/local/etc/npmrc \\
 && groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node \\
 && node --version && npm --version
CMD ["node"]
EOF
"$DOCKER" build -q -t "$IMAGE" "$WORK/ctx" >"$WORK/build.log" 2>&1 || { tail -n 20 "$WORK/build.log" >&2; die "building the $IMAGE stand-in failed"; }
"$DOCKER" save -o "$SAVED.new" "$DEBIAN" "$IMAGE" && mv -f "$SAVED.new" "$SAVED"
log "built the $IMAGE stand-in (node $VERSION) in $((SECONDS - T0)) s; saved to $SAVED"
echo "$IMAGE"

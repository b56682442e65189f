# npm-node.sh — a Node.js binary from the npm registry's node-<os>-<arch> packages (the official
# builds, published there as plain tarballs: bin/node, headers, no npm inside).
# Sourced by scripts/provision-*.sh after scripts/lib/debian-packages.sh (for die, log, need).
#
#   npm_node <os-arch> <major> <dest>
#            the newest node-<os-arch>@<major> (e.g. linux-arm64 24) unpacked as <dest>/bin/node
#            and <dest>/LICENSE; <dest>/VERSION holds the version. Uses the ordinary npm client
#            (`npm pack`), so the registry, proxy and CA are whatever npm is configured with.

npm_node() {
  local pkg=node-$1 major=$2 dest=$3 tmp name
  need npm
  need tar
  mkdir -p "$CACHE"
  tmp=$(mktemp -d "$CACHE/npm-node.tmp.XXXXXX")
  # Run outside any project, so no package.json or .npmrc of a checkout applies.
  if ! name=$(cd "$tmp" && npm pack --silent "$pkg@$major" 2>"$tmp/npm.log" | tail -n 1) || [[ ! -f $tmp/$name ]]; then
    tail -n 3 "$tmp/npm.log" >&2
    rm -rf "$tmp"
    die "npm pack $pkg@$major failed (is the npm registry reachable?)"
  fi
  mkdir -p "$dest"
  tar -xzf "$tmp/$name" -C "$dest" --strip-components=1 package/bin/node package/LICENSE ||
    { rm -rf "$tmp"; die "$name has no package/bin/node"; }
  name=${name%.tgz}
  echo "${name#"$pkg"-}" >"$dest/VERSION"
  rm -rf "$tmp"
}

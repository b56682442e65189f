# solominer as a container (docs/deploy.md, "Docker").
#
#   docker build -t solominer .
#   docker run -d --name solominer -v solominer-data:/data -p 3333:3333 \
#     -e SOLOMINER_ADDRESS=bc1q... -e SOLOMINER_RPC_URL=http://host.docker.internal:8332 ... solominer
#
# Two stages. `build` has the compiler: it makes the package with `npm pack`, exactly as it is
# published (prepack builds and checks the prebuilt addon for this platform, prepare compiles
# the TypeScript; docs/install.md, "Making the package"). The final stage starts from the plain
# Node image, which has no compiler, and installs that tarball with `npm install -g`, as a user
# without a compiler would: the package's install script must find that its prebuilt loads
# here, or the build fails. The same step strips what this image never uses, so no layer keeps
# it: the other platforms' webgpu and zeromq binaries (scripts/prune-runtime.mjs), and what only
# a build from source needs (cmake-js, node-addon-api, node-api-headers, the C++ sources).
ARG NODE_LINE=24

FROM node:${NODE_LINE}-bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends g++ make cmake tini \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Dependencies first: this layer is rebuilt only when the lock file changes.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
# The package for this platform only (prebuild.mjs checks the ELF machine, the glibc/libstdc++
# floor and where each instruction set's code sits), and the pruning script beside it.
RUN mkdir /pkg \
 && SOLOMINER_PREBUILD_TARGETS=linux-$(node -p process.arch) npm pack --pack-destination /pkg \
 && mv /pkg/solominer-*.tgz /pkg/solominer.tgz \
 && cp scripts/prune-runtime.mjs /pkg/

FROM node:${NODE_LINE}-bookworm-slim
# bash, so that a failing `npm install | tee` fails the step.
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
COPY --from=build /usr/bin/tini-static /usr/bin/tini
COPY --from=build /pkg/ /pkg/
# --allow-scripts names the tarball (npm matches a package by where it comes from, so a file is
# named by its path): the package's own install script runs whatever npm's policy on undeclared
# scripts (npm 12 skips them; the other packages' scripts are not needed on Linux,
# docs/install.md). --foreground-scripts shows its line ("native engine: the prebuilt for
# linux-<arch> loads here; back ends ..."), which is required: without a compiler no other
# path to a working engine exists. Then the strip, npm's cache and the tarball go. `npm
# uninstall` in the package's folder reads its package.json as a project's, so its `overrides`
# (form-data and tough-cookie under bitcoin-core's `request`) apply there too, which a global
# install alone ignores.
RUN npm install -g --allow-scripts=/pkg/solominer.tgz --foreground-scripts --no-audit --no-fund --no-update-notifier /pkg/solominer.tgz 2>&1 \
  | tee /pkg/install.log \
 && grep -q '^solominer: native engine: the prebuilt for linux-[a-z0-9]* loads here' /pkg/install.log \
 && cd "$(npm root -g)/solominer" \
 && test ! -e build \
 && npm uninstall --omit=dev --ignore-scripts --no-audit --no-fund --no-update-notifier cmake-js node-addon-api node-api-headers \
 && rm -rf native CMakeLists.txt scripts/build-native.mjs package-lock.json \
 && node /pkg/prune-runtime.mjs . \
 && npm cache clean --force 2>/dev/null \
 && rm -rf /pkg \
 && solominer --version \
 && mkdir -p /data \
 && chown node:node /data
# Everything the miner keeps (found-blocks journal, best shares, hourly reports) lands under the
# working directory: reports/ by default, or what a config file at /data/config.json says.
VOLUME /data
WORKDIR /data
USER node
# Inside the container the Stratum pool listens on every interface (publishing the port decides
# who reaches it); the status port stays on loopback until SOLOMINER_METRICS_HOST=0.0.0.0 and a
# SOLOMINER_STATUS_TOKEN publish it. Variables win over a config file: change these with -e.
ENV NODE_ENV=production \
    SOLOMINER_STRATUM_PORT=3333 \
    SOLOMINER_STRATUM_HOST=0.0.0.0 \
    SOLOMINER_METRICS_PORT=9464
EXPOSE 3333 9464
# Asks the miner itself (its /status): answering, a job to work on, the node reachable, the
# reports folder writable. Start-up waits up to --connect-timeout (30 s) for the node.
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
  CMD ["solominer", "status", "--health"]
# tini as PID 1: passes SIGTERM on (docker stop: the orderly stop) and reaps what --on-block
# commands leave behind. Exit 2 means a bad configuration: the one line above it says which.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "--", "solominer"]
CMD ["mine"]

# solominer as a container (docs/deploy.md, "Docker").
#
#   docker build -t solominer .
#   docker run -d --name solominer -v solominer-data:/data -p 3333:3333 \
#     -e SOLOMINER_ADDRESS=bc1q... -e SOLOMINER_RPC_URL=http://host.docker.internal:8332 ... solominer
#
# Two stages. `build` has the compiler: it builds the checkout (native addon, TypeScript), packs
# it with `npm pack` (what `npm install solominer` would get) and assembles the runtime tree in
# /opt/solominer: production dependencies only, the build-time packages removed, and only what
# this platform loads of webgpu's and zeromq's prebuilt binaries (scripts/prune-runtime.mjs).
# The final stage copies that tree onto the plain Node image: no compiler, no npm cache, a
# non-root user, every piece of state in the /data volume.
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
# The project's own install and prepare scripts (native addon, TypeScript), then the package.
RUN npm run build \
 && npm pack --ignore-scripts --pack-destination /tmp \
 && mv /tmp/solominer-*.tgz /tmp/solominer.tgz
# The runtime tree: what bin/solominer.js loads.
RUN mkdir -p /opt/solominer/dist /opt/solominer/build/Release \
 && cp -r package.json package-lock.json bin kernels /opt/solominer/ \
 && cp -r dist/src dist/web /opt/solominer/dist/ \
 && find /opt/solominer/dist -name '*.map' -delete \
 && cp build/Release/solominer_native.node /opt/solominer/build/Release/ \
 && cd /opt/solominer \
 && npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm uninstall --omit=dev --ignore-scripts --no-audit --no-fund cmake-js node-addon-api node-api-headers \
 && node /src/scripts/prune-runtime.mjs /opt/solominer \
 && rm -f package-lock.json \
 && node bin/solominer.js --version

FROM node:${NODE_LINE}-bookworm-slim
COPY --from=build /usr/bin/tini-static /usr/bin/tini
COPY --from=build /opt/solominer /opt/solominer
RUN ln -s /opt/solominer/bin/solominer.js /usr/local/bin/solominer \
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

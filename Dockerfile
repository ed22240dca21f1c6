# syntax=docker/dockerfile:1
# The operator image. Node.js major must match package.json's (a unit test checks it).
# The base images are build arguments: the defaults are the official images users build with;
# images/build.sh passes equivalent bases assembled without a registry (see docs/install.md).
ARG NODE_IMAGE=node:24-bookworm-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs24-debian12:nonroot

FROM ${NODE_IMAGE} AS build
# The bundler, pinned to the version package.json's devDependencies name (a unit test checks).
ARG ESBUILD_VERSION=0.28.2
WORKDIR /src
# .dockerignore admits only package*.json, src/, packages/ (npm workspaces) and the bundle script.
COPY . .
# Production dependencies, then one bundle of them and the sources (scripts/bundle.ts): a replica
# loads one file instead of thousands of modules, which halves its starting heap.
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error && \
    npm install --prefix /esbuild --no-save --ignore-scripts --no-audit --no-fund --loglevel=error \
      "esbuild@${ESBUILD_VERSION}" && \
    ESBUILD=/esbuild/node_modules/esbuild/lib/main.js node scripts/bundle.ts /out

FROM ${RUNTIME_IMAGE}
WORKDIR /app
ENV NODE_ENV=production
# operator.mjs and the pages' assets/ beside it; no node_modules.
COPY --from=build /out/ ./
# 65532 = distroless "nonroot"; numeric so the restricted Pod Security Standard can verify it.
USER 65532:65532
EXPOSE 8080 8081
ENTRYPOINT ["/nodejs/bin/node", "operator.mjs"]

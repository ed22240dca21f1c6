# syntax=docker/dockerfile:1
# The operator image. Node.js major must match package.json's (a unit test checks it).

FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: the image brings its own Node.js, so the `node` devDependency (which
# fetches a binary in an install script) stays inert; the compiler is called directly.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN node node_modules/typescript/bin/tsc -p tsconfig.build.json && npm prune --omit=dev --ignore-scripts

FROM gcr.io/distroless/nodejs24-debian12:nonroot
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
# 65532 = distroless "nonroot"; numeric so the restricted Pod Security Standard can verify it.
USER 65532:65532
EXPOSE 8080 8081
ENTRYPOINT ["/nodejs/bin/node", "--enable-source-maps", "dist/main.js"]

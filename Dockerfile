# syntax=docker/dockerfile:1
# The operator image. Node.js major must match package.json's (a unit test checks it).
# The base images are build arguments: the defaults are the official images users build with;
# images/build.sh passes equivalent bases assembled without a registry (see docs/install.md).
ARG NODE_IMAGE=node:24-bookworm-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs24-debian12:nonroot

FROM ${NODE_IMAGE} AS build
WORKDIR /src
# .dockerignore admits only package*.json, src/ and packages/ (npm workspaces), tests excluded.
COPY . .
# Production dependencies only; the TypeScript sources ship as they are: Node.js 24 strips the
# types itself, exactly as `npm run dev` runs them (npm test type-checks them).
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error && \
    mkdir -p /out && cp -r package.json node_modules src /out/ && \
    if [ -d packages ]; then cp -r packages /out/; fi

FROM ${RUNTIME_IMAGE}
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /out/ ./
# 65532 = distroless "nonroot"; numeric so the restricted Pod Security Standard can verify it.
USER 65532:65532
EXPOSE 8080 8081
ENTRYPOINT ["/nodejs/bin/node", "src/main.ts"]

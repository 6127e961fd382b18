# syntax=docker/dockerfile:1.7
# keda-indexer worker image.
#
#   docker build -t keda-indexer .                                  # CPU
#   docker build -t keda-indexer:cuda --build-arg VARIANT=cuda .     # NVIDIA GPU (CUDA 12 + cuDNN 9)
#   docker build --build-arg MODEL_ID=Xenova/all-MiniLM-L6-v2 .      # bake the model in (/models)
#
# The steps below are the ones scripts/verify-image-steps runs in a clean folder in CI, where no
# Docker engine is available: keep the two in step.

ARG NODE_IMAGE=node:22-bookworm-slim
ARG CUDA_IMAGE=nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04
ARG VARIANT=cpu

# --- build-deps: every dependency, for the bundle and for downloading a model ------------------------
FROM ${NODE_IMAGE} AS build-deps
WORKDIR /src
COPY package.json package-lock.json ./
COPY scripts/build.js ./scripts/
RUN npm ci --ignore-scripts --no-audit --no-fund

# --- build: bundle the TypeScript -----------------------------------------------------------------
FROM build-deps AS build
COPY app ./app
RUN node scripts/build.js

# --- deps: production dependencies only, pruned to this platform ---------------------------------
FROM ${NODE_IMAGE} AS deps
ARG VARIANT
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts/prune-runtime ./prune-runtime
# Install scripts stay off (the repository's own `prepare` needs dev tools); the one script a GPU
# image needs, onnxruntime-node's CUDA provider download, is run explicitly.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && if [ "$VARIANT" = cuda ]; then \
      (cd node_modules/onnxruntime-node && node script/install --onnxruntime-node-install=cuda12); \
    fi \
 && sh prune-runtime node_modules && rm prune-runtime

# --- model (optional): download a Hugging Face model into the /models cache at build time -----------
# From the full install: the runtime's node_modules holds only what the bundle leaves out
# (prune-runtime), not transformers.js.
FROM build-deps AS model
ARG MODEL_ID=
RUN mkdir -p /models && if [ -n "$MODEL_ID" ]; then \
      node --input-type=module -e "import { env, pipeline } from '@huggingface/transformers'; env.cacheDir = '/models'; await pipeline('feature-extraction', process.env.MODEL_ID, { dtype: 'fp32' });"; \
    fi

# --- runtimes ---------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime-cpu

FROM ${CUDA_IMAGE} AS runtime-cuda
# Node's official binary runs on the CUDA base image's glibc; nothing else from the node image.
COPY --from=build /usr/local/bin/node /usr/local/bin/node

FROM runtime-${VARIANT} AS runtime
# glibc keeps freed memory for reuse up to a threshold that grows to 32 MiB; returning anything
# above 128 KiB to the kernel keeps a worker's steady RSS 40–70 MB lower, at a throughput cost
# within the benchmark machine's noise (docs/benchmarks.md, figure 5 runs the worker with this line).
ENV MALLOC_TRIM_THRESHOLD_=131072
ENV NODE_ENV=production \
    HTTP_PORT=8080 \
    EMBEDDING_CACHE_DIR=/models
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
# A baked model sits in the cache and loads offline under its hub id (EMBEDDING_MODEL, default
# Xenova/all-MiniLM-L6-v2); without one, the first start downloads into /models (mount a volume
# there: the root filesystem may be read-only).
COPY --from=model --chown=10001:10001 /models /models
RUN install -d -o 10001 -g 10001 /app/compile-cache
# Fixed non-root uid, matching the chart's securityContext; the root filesystem can be read-only.
USER 10001:10001
# Node's compile cache (V8 code for the bundle and the packages it loads), made here by this
# image's Node, as this user, at these paths, the three things Node keys it by: a start reads
# compiled code instead of compiling the bundle and pdf.js (docs/image.md). Only read at run time;
# a start under another uid or other V8 flags misses it and compiles as without it.
RUN --mount=type=bind,source=scripts/compile-cache.js,target=/tmp/compile-cache.mjs \
    node /tmp/compile-cache.mjs /app /app/compile-cache
ENV NODE_COMPILE_CACHE=/app/compile-cache
EXPOSE 8080
ENTRYPOINT ["node", "/app/dist/cli.js"]
CMD ["worker"]

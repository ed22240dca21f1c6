#!/usr/bin/env bash
# Builds the images the test node runs, with buildah and without any registry, as OCI archives
# in .cache/images (containerd imports them; nothing is pulled):
#   pause            the Pod sandbox, from k8s.io/kubernetes' pause.c (gcc -static)
#   node-build:24    stands in for node:24-bookworm-slim: Node.js 24 (the npm `node` package), npm,
#                    busybox as /bin/sh and coreutils, and the Debian libraries Node.js links against
#   node-runtime:24  stands in for gcr.io/distroless/nodejs24-debian12:nonroot: the same Node.js at
#                    /nodejs/bin/node, the libraries, CA certificates, uid/gid 65532, no shell
#   operator         the repository's Dockerfile, built FROM the two bases above via build args
#   mailpit, coredns the Go-built binaries from tools/bin on an empty base, uid 65532
# Each archive is rebuilt only when its inputs change. Usage: bash images/build.sh [image…]
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
out="$repo/.cache/images"
work="$out/work"
debs="$out/debs"
mkdir -p "$out" "$work" "$debs"
started=$SECONDS
log() { echo "images: $*"; }

export PAUSE_IMAGE=localhost/pause:3.10.2
export NODE_BUILD_IMAGE=localhost/emailauth/node-build:24
export NODE_RUNTIME_IMAGE=localhost/emailauth/node-runtime:24
export OPERATOR_IMAGE=localhost/emailauth/operator:dev
export MAILPIT_IMAGE=localhost/emailauth/mailpit:v1.33.1
export COREDNS_IMAGE=localhost/emailauth/coredns:v1.15.0

for cmd in buildah apt-get dpkg gcc; do
  command -v "$cmd" >/dev/null || { log "$cmd is missing (bash scripts/install-node-deps.sh installs it)" >&2; exit 1; }
done
node_bin="$repo/node_modules/node/bin/node"
[[ -x $node_bin ]] || { log "$node_bin is missing: run npm install first" >&2; exit 1; }

# buildah under runc on these machines needs explicit limits (the hard ones exceed what root may set).
bud() { buildah bud --quiet --layers --force-rm --isolation=oci --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 "$@" >/dev/null; }

hash_of() { cat "$@" | sha256sum | cut -c1-16; }
hash_tree() { (cd "$repo" && find "$@" -type f -not -path '*/node_modules/*' -not -name '*.test.ts' 2>/dev/null | sort | xargs -r sha256sum | sha256sum | cut -c1-16); }

# image NAME REF INPUTS-HASH BUILD-FUNCTION [local]: builds unless current, and exports an OCI
# archive for containerd (bases only used by later builds stay in buildah's storage: "local").
image() {
  local name=$1 ref=$2 hash=$3 fn=$4 scope=${5:-} archive="$out/$1.tar" t0=$SECONDS
  [[ -f $archive.hash ]] && mv "$archive.hash" "$out/$name.hash" # where earlier versions kept it
  if [[ -f $out/$name.hash && $(cat "$out/$name.hash") == "$hash" ]] && buildah inspect --type image "$ref" >/dev/null 2>&1 &&
    [[ $scope == local || -f $archive ]]; then
    log "$name is current ($ref)"
    return
  fi
  log "building $name ($ref)"
  rm -f "$out/$name.hash"
  "$fn" "$ref"
  rm -rf "${work:?}/$name" # the assembled root is in the image now
  if [[ $scope != local ]]; then
    rm -f "$archive"
    buildah push --quiet "$ref" "oci-archive:$archive:$ref" >/dev/null
  fi
  echo "$hash" >"$out/$name.hash"
  if [[ $scope == local ]]; then
    log "$name built in $((SECONDS - t0))s (kept in buildah's storage for the builds that use it)"
  else
    log "$name built in $((SECONDS - t0))s ($(du -h "$archive" | cut -f1))"
  fi
}

# Debian packages, unpacked once into a root of their own.
DEB_PACKAGES=(libc6 libstdc++6 libgcc-s1 ca-certificates busybox-static)
debian_root() {
  local root="$debs/root"
  [[ -f $root/.complete ]] && return
  log "downloading ${DEB_PACKAGES[*]} (apt-get download)"
  rm -rf "$root" && mkdir -p "$root"
  (cd "$debs" && apt-get download -q -o APT::Sandbox::User=root "${DEB_PACKAGES[@]}" >/dev/null)
  for deb in "$debs"/*.deb; do dpkg -x "$deb" "$root"; done
  touch "$root/.complete"
}

# A distroless-style root filesystem: libraries, CA bundle, passwd/group, nsswitch, /tmp.
base_rootfs() {
  local dir=$1 root="$debs/root" lib=lib/x86_64-linux-gnu
  mkdir -p "$dir/$lib" "$dir/lib64" "$dir/etc/ssl/certs" "$dir/tmp" "$dir/home/nonroot"
  chmod 1777 "$dir/tmp"
  for so in ld-linux-x86-64.so.2 libc.so.6 libm.so.6 libdl.so.2 libpthread.so.0 librt.so.1 libresolv.so.2 \
    libnss_files.so.2 libnss_dns.so.2; do cp -L "$root/$lib/$so" "$dir/$lib/"; done
  cp -L "$root/usr/$lib/libstdc++.so.6" "$root/$lib/libgcc_s.so.1" "$dir/$lib/"
  ln -sf "/$lib/ld-linux-x86-64.so.2" "$dir/lib64/ld-linux-x86-64.so.2"
  find "$root/usr/share/ca-certificates" -name '*.crt' -print0 | sort -z | xargs -0 cat >"$dir/etc/ssl/certs/ca-certificates.crt"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$dir/etc/passwd"
  printf 'root:x:0:\nnonroot:x:65532:\n' >"$dir/etc/group"
  printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$dir/etc/nsswitch.conf"
  chown 65532:65532 "$dir/home/nonroot"
}

# A Containerfile that copies a prepared root into an empty image.
from_scratch() {
  local ref=$1 ctx=$2
  shift 2
  { echo "FROM scratch"; echo "COPY rootfs/ /"; printf '%s\n' "$@"; } >"$ctx/Containerfile"
  bud -f "$ctx/Containerfile" -t "$ref" "$ctx"
}

build_pause() {
  local ctx="$work/pause" src
  src="$(cd "$repo/tools" && go env GOMODCACHE)/k8s.io/kubernetes@v1.36.3/build/pause/linux/pause.c"
  [[ -f $src ]] || (cd "$repo/tools" && GOFLAGS=-mod=readonly go mod download k8s.io/kubernetes)
  rm -rf "$ctx" && mkdir -p "$ctx/rootfs"
  gcc -Os -Wall -Werror -static -DVERSION=v3.10.2 -o "$ctx/rootfs/pause" "$src"
  from_scratch "$1" "$ctx" 'USER 65535:65535' 'ENTRYPOINT ["/pause"]'
}

build_node_build() {
  local ctx="$work/node-build" npm_dir
  debian_root
  npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
  rm -rf "$ctx" && mkdir -p "$ctx/rootfs/usr/local/bin" "$ctx/rootfs/usr/local/lib/node_modules" "$ctx/rootfs/bin" "$ctx/rootfs/root"
  base_rootfs "$ctx/rootfs"
  printf 'root:x:0:0:root:/root:/bin/sh\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$ctx/rootfs/etc/passwd"
  # A shell and the usual utilities for RUN lines: busybox, static, one link per applet.
  cp "$debs/root/bin/busybox" "$ctx/rootfs/bin/busybox"
  for applet in $("$debs/root/bin/busybox" --list); do
    [[ -e $ctx/rootfs/bin/$applet ]] || ln -s busybox "$ctx/rootfs/bin/$applet"
  done
  cp "$node_bin" "$ctx/rootfs/usr/local/bin/node"
  cp -r "$npm_dir" "$ctx/rootfs/usr/local/lib/node_modules/npm"
  # npm-cli.js starts with `#!/usr/bin/env node`, and there is no env here.
  printf '#!/bin/sh\nexec /usr/local/bin/node /usr/local/lib/node_modules/npm/bin/npm-cli.js "$@"\n' >"$ctx/rootfs/usr/local/bin/npm"
  chmod 755 "$ctx/rootfs/usr/local/bin/npm"
  # The build stage downloads from the npm registry, so it trusts what this machine trusts.
  cp -L /etc/ssl/certs/ca-certificates.crt "$ctx/rootfs/etc/ssl/certs/ca-certificates.crt"
  from_scratch "$1" "$ctx" 'ENV PATH=/usr/local/bin:/usr/bin:/bin HOME=/root' \
    'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' 'CMD ["node"]'
}

build_node_runtime() {
  local ctx="$work/node-runtime"
  debian_root
  rm -rf "$ctx" && mkdir -p "$ctx/rootfs/nodejs/bin"
  base_rootfs "$ctx/rootfs"
  cp "$node_bin" "$ctx/rootfs/nodejs/bin/node"
  from_scratch "$1" "$ctx" 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' 'USER 65532:65532' \
    'WORKDIR /home/nonroot' 'ENTRYPOINT ["/nodejs/bin/node"]'
}

# A static Go binary from tools/bin on the distroless-style root.
go_binary_image() {
  local name=$1 ref=$2 ctx="$work/$1"
  shift 2
  debian_root
  rm -rf "$ctx" && mkdir -p "$ctx/rootfs"
  base_rootfs "$ctx/rootfs"
  cp "$repo/tools/bin/$name" "$ctx/rootfs/$name"
  from_scratch "$ref" "$ctx" 'USER 65532:65532' "ENTRYPOINT [\"/$name\"]" "$@"
}
build_mailpit() { go_binary_image mailpit "$1" 'EXPOSE 1025 8025'; }
build_coredns() { go_binary_image coredns "$1" 'EXPOSE 1053/udp 1053/tcp'; }

# The repository's Dockerfile, unchanged, with the local bases. npm ci needs the npm registry.
build_operator() {
  bud --network=host -f "$repo/Dockerfile" \
    --build-arg "NODE_IMAGE=$NODE_BUILD_IMAGE" --build-arg "RUNTIME_IMAGE=$NODE_RUNTIME_IMAGE" \
    -t "$1" "$repo"
}

declare -A wanted=()
for a in "${@:-all}"; do wanted[$a]=1; done
want() { [[ -n ${wanted[all]:-} || -n ${wanted[$1]:-} ]]; }

base_hash=$(hash_of "$0" "$node_bin")
want pause && image pause "$PAUSE_IMAGE" "$(hash_of "$0")" build_pause
if want operator || want node-build || want node-runtime; then
  image node-build "$NODE_BUILD_IMAGE" "$base_hash" build_node_build local
  image node-runtime "$NODE_RUNTIME_IMAGE" "$base_hash" build_node_runtime local
fi
want mailpit && image mailpit "$MAILPIT_IMAGE" "$(hash_of "$0" "$repo/tools/bin/mailpit")" build_mailpit
want coredns && image coredns "$COREDNS_IMAGE" "$(hash_of "$0" "$repo/tools/bin/coredns")" build_coredns
if want operator; then
  image operator "$OPERATOR_IMAGE" \
    "$base_hash-$(hash_tree Dockerfile .dockerignore package.json package-lock.json src packages scripts/bundle.ts)" \
    build_operator
fi
log "done in $((SECONDS - started))s; archives in $out"

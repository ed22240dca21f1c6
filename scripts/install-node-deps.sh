#!/usr/bin/env bash
# Installs the Debian packages that the test node and the image build need, when missing:
# runc, the CNI plugins, iptables and nftables, buildah, and gcc with libc6-dev (the static
# pause binary). As root it runs apt-get; otherwise it names the exact command and fails.
set -euo pipefail
declare -A provides=(
  [runc]=/usr/sbin/runc
  [containernetworking-plugins]=/usr/lib/cni/bridge
  [iptables]=/usr/sbin/iptables
  [nftables]=/usr/sbin/nft
  [buildah]=/usr/bin/buildah
  [gcc]=/usr/bin/gcc
  [libc6-dev]=/usr/lib/x86_64-linux-gnu/libc.a
  [openssl]=/usr/bin/openssl
)
missing=()
for pkg in "${!provides[@]}"; do [[ -e ${provides[$pkg]} ]] || missing+=("$pkg"); done
if ((${#missing[@]} == 0)); then
  echo "node deps: all present (${!provides[*]})"
  exit 0
fi
if [[ $(id -u) != 0 ]] || ! command -v apt-get >/dev/null; then
  echo "node deps: missing ${missing[*]}; install them with:" >&2
  echo "  sudo apt-get install --no-install-recommends ${missing[*]}" >&2
  exit 1
fi
echo "node deps: installing ${missing[*]} (apt-get)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"

#!/usr/bin/env bash
# Builds the real components used by tests and the dev stack from Go modules:
# kube-apiserver, etcd and kubectl (this module), Mailpit (./mailpit) and Helm (./helm), the last two
# kept apart so their dependency versions cannot move the control plane's. Output goes to tools/bin
# (git-ignored).
# A stamp of the inputs makes later runs a no-op until go.mod/go.sum or this script change.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
bin="$here/bin"
stamp="$bin/.inputs.sha256"
k8s_version=v1.36.3

export CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS="-mod=readonly -buildvcs=false"

inputs_hash() {
  cat "$here/build.sh" "$here/go.mod" "$here/go.sum" "$here/mailpit/go.mod" "$here/mailpit/go.sum" \
    "$here/helm/go.mod" "$here/helm/go.sum" |
    sha256sum | cut -d' ' -f1
}

binaries=(etcd kube-apiserver kubectl mailpit helm)
want=$(inputs_hash)
up_to_date=1
[[ -f $stamp && $(cat "$stamp") == "$want" ]] || up_to_date=0
for b in "${binaries[@]}"; do [[ -x $bin/$b ]] || up_to_date=0; done
if ((up_to_date)); then
  echo "tools: up to date in $bin"
  exit 0
fi

if ! command -v go >/dev/null; then
  echo "tools: the Go toolchain is required to build the local control plane (see README)" >&2
  exit 1
fi

mkdir -p "$bin"
rm -f "$stamp"
started=$SECONDS

# build DIR PACKAGE OUTPUT [LDFLAGS]: go build with a package counter, since a cold
# kube-apiserver build compiles ~2000 packages and takes minutes.
build() {
  local dir=$1 pkg=$2 out=$3 ldflags=${4:-}
  local total
  total=$(cd "$dir" && go list -deps "$pkg" | wc -l)
  echo "tools: building $out ($total packages to check)"
  local n=0 t0=$SECONDS line
  if ! (cd "$dir" && go build -v -trimpath -ldflags "-s -w $ldflags" -o "$bin/$out.tmp" "$pkg" 2>&1) |
    while IFS= read -r line; do
      case $line in
        '#'* | 'go: '* | *.go:[0-9]*) echo "$line" ;; # errors pass through untouched
        *) n=$((n + 1)); ((n % 100)) || echo "tools:   $out: $n/$total packages compiled ($((SECONDS - t0))s)" ;;
      esac
    done; then
    echo "tools: building $out failed" >&2
    exit 1
  fi
  mv "$bin/$out.tmp" "$bin/$out"
}

version_flags="-X k8s.io/component-base/version.gitVersion=$k8s_version -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=36"
build "$here" go.etcd.io/etcd/server/v3 etcd
build "$here" k8s.io/kubernetes/cmd/kube-apiserver kube-apiserver "$version_flags"
build "$here" k8s.io/kubernetes/cmd/kubectl kubectl "$version_flags"
build "$here/mailpit" github.com/axllent/mailpit mailpit "-X github.com/axllent/mailpit/config.Version=v1.33.1"
build "$here/helm" helm.sh/helm/v3/cmd/helm helm "-X helm.sh/helm/v3/internal/version.version=v3.22.0 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=37 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=37"

echo "$want" >"$stamp"
echo "tools: built ${binaries[*]} in $((SECONDS - started))s; $(du -sh "$bin" | cut -f1) in $bin"

#!/usr/bin/env bash
# Builds the real components used by tests and the dev stack from Go modules, into tools/bin
# (git-ignored):
#   controlplane  etcd, kube-apiserver, kubectl            (this module)
#   node          kubelet, kube-controller-manager, kube-scheduler, kube-proxy (this module)
#   containerd    containerd, ctr, containerd-shim-runc-v2 (./containerd)
#   coredns       cluster DNS with the plugins the node uses (./coredns)
#   kstatus       the status library Flux uses, as a command (./kstatus)
#   mailpit, helm                                          (./mailpit, ./helm)
# Every group except the first is a module of its own, so its dependencies cannot move the
# control plane's. `bash tools/build.sh [group…]` builds the named groups; the default is what the
# unit and integration tests and `npm run dev` need (controlplane mailpit helm kstatus); `all`
# adds the node (node containerd coredns), which the e2e tests and `npm run dev:cluster` ask for.
# Each group keeps a stamp of its inputs, so a later run is a no-op until its go.mod/go.sum or
# its build line here change; everything is static (CGO_ENABLED=0) and stripped.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
bin="$here/bin"
k8s_version=v1.36.3
k8s_flags="-X k8s.io/component-base/version.gitVersion=$k8s_version -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=36"
helm_flags="-X helm.sh/helm/v3/internal/version.version=v3.22.0 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=37 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=37"
containerd_flags="-X github.com/containerd/containerd/v2/version.Version=v2.4.2"

export CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS="-mod=readonly -buildvcs=false"

# group → "module-dir|output=package|output=package …|ldflags|build tags"
declare -A groups=(
  [controlplane]=".|etcd=go.etcd.io/etcd/server/v3 kube-apiserver=k8s.io/kubernetes/cmd/kube-apiserver kubectl=k8s.io/kubernetes/cmd/kubectl|$k8s_flags|"
  [node]=".|kubelet=k8s.io/kubernetes/cmd/kubelet kube-controller-manager=k8s.io/kubernetes/cmd/kube-controller-manager kube-scheduler=k8s.io/kubernetes/cmd/kube-scheduler kube-proxy=k8s.io/kubernetes/cmd/kube-proxy|$k8s_flags|"
  [containerd]="containerd|containerd=github.com/containerd/containerd/v2/cmd/containerd ctr=github.com/containerd/containerd/v2/cmd/ctr containerd-shim-runc-v2=github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2|$containerd_flags|no_btrfs no_devmapper no_zfs no_aufs"
  [coredns]="coredns|coredns=.||"
  [kstatus]="kstatus|kstatus=.||"
  [mailpit]="mailpit|mailpit=github.com/axllent/mailpit|-X github.com/axllent/mailpit/config.Version=v1.33.1|"
  [helm]="helm|helm=helm.sh/helm/v3/cmd/helm|$helm_flags|"
)
order=(controlplane mailpit helm kstatus node containerd coredns)

default=(controlplane mailpit helm kstatus)
wanted=("$@")
((${#wanted[@]})) || wanted=("${default[@]}")
[[ ${wanted[*]} == all ]] && wanted=("${order[@]}")
for g in "${wanted[@]}"; do
  [[ -n ${groups[$g]:-} ]] || { echo "tools: unknown group '$g' (groups: ${order[*]})" >&2; exit 2; }
done

stamp_of() { echo "$bin/.stamp-$1"; }
inputs_hash() {
  local dir
  dir="$here/$(cut -d'|' -f1 <<<"${groups[$1]}")"
  { echo "${groups[$1]}"; cat "$dir/go.mod" "$dir/go.sum"; find "$dir" -maxdepth 1 -name '*.go' -exec cat {} +; } | sha256sum | cut -d' ' -f1
}
outputs_of() { local o; for o in $(cut -d'|' -f2 <<<"${groups[$1]}"); do echo "${o%%=*}"; done; }

stale=()
for g in "${wanted[@]}"; do
  current=1
  [[ -f $(stamp_of "$g") && $(cat "$(stamp_of "$g")") == "$(inputs_hash "$g")" ]] || current=0
  for b in $(outputs_of "$g"); do [[ -x $bin/$b ]] || current=0; done
  ((current)) || stale+=("$g")
done
if ((${#stale[@]} == 0)); then
  echo "tools: up to date in $bin (${wanted[*]})"
  exit 0
fi

if ! command -v go >/dev/null; then
  echo "tools: the Go toolchain (1.26.6 or later) is required to build ${stale[*]} (see README)" >&2
  exit 1
fi

mkdir -p "$bin"
started=$SECONDS

# build DIR PACKAGE OUTPUT LDFLAGS TAGS: go build with a package counter, since a cold
# kube-apiserver or kubelet build compiles ~2000 packages and takes minutes. Building straight
# to the output lets go skip the link when the binary is already current.
build() {
  local dir=$1 pkg=$2 out=$3 ldflags=$4 tags=$5
  local total
  total=$(cd "$dir" && go list -tags "$tags" -deps "$pkg" | wc -l)
  echo "tools: building $out ($total packages to check)"
  local n=0 t0=$SECONDS line
  if ! (cd "$dir" && go build -v -trimpath -tags "$tags" -ldflags "-s -w $ldflags" -o "$bin/$out" "$pkg" 2>&1) |
    while IFS= read -r line; do
      case $line in
        '#'* | 'go: '* | *.go:[0-9]*) echo "$line" ;; # errors pass through untouched
        *) n=$((n + 1)); ((n % 100)) || echo "tools:   $out: $n/$total packages compiled ($((SECONDS - t0))s)" ;;
      esac
    done; then
    echo "tools: building $out failed" >&2
    exit 1
  fi
  echo "tools:   $out done ($((SECONDS - t0))s)"
}

for g in "${stale[@]}"; do
  IFS='|' read -r dir outputs ldflags tags <<<"${groups[$g]}"
  rm -f "$(stamp_of "$g")"
  for o in $outputs; do build "$here/$dir" "${o#*=}" "${o%%=*}" "$ldflags" "$tags"; done
  inputs_hash "$g" >"$(stamp_of "$g")"
done
rm -f "$bin/.inputs.sha256" # the single stamp of earlier versions of this script

echo "tools: built ${stale[*]} in $((SECONDS - started))s; $(du -sh "$bin" | cut -f1) in $bin"

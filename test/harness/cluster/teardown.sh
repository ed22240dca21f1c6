#!/usr/bin/env bash
# Removes everything the test node created, whether it stopped cleanly or crashed: processes,
# Pod processes (by their kubepods cgroup), mounts, the bridge and veths, network namespaces,
# iptables chains (KUBE-*, CNI-*), nft tables that were not there before, cgroups and the run
# directory. Safe to run twice. Usage: teardown.sh RUN_DIR [--keep-dir]
set -uo pipefail
run=${1:?run dir}
keep_dir=${2:-}
bridge=eaobr0
say() { echo "cluster teardown: $* (${SECONDS}s)"; }
[[ -d $run ]] || exit 0

# Processes: recorded pids whose command line still names the run dir, then anything else that
# does (containerd shims name its socket), then every process in a kubepods cgroup (the Pods').
names_run() { { tr '\0' ' ' <"/proc/$1/cmdline"; } 2>/dev/null | grep -qF "$run"; }
kill_list=()
for f in "$run"/pids/*.pid; do
  [[ -f $f ]] || continue
  pid=$(cat "$f")
  [[ -n $pid ]] && names_run "$pid" && kill_list+=("$pid")
done
# Two greps over /proc rather than two processes per pid (seconds with hundreds of processes).
# They and this script name the run dir too: this script is left out, the greps have ended.
while read -r pid; do
  [[ $pid == "$$" || $pid == "$BASHPID" ]] || kill_list+=("$pid")
done < <({ grep -laF -- "$run" /proc/[0-9]*/cmdline; grep -ls kubepods /proc/[0-9]*/cgroup; } 2>/dev/null | cut -d/ -f3 | sort -u)
if ((${#kill_list[@]})); then
  say "ending ${#kill_list[@]} processes"
  kill -TERM "${kill_list[@]}" 2>/dev/null
  for _ in $(seq 1 30); do
    alive=0
    for pid in "${kill_list[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    ((alive)) || break
    sleep 0.1
  done
  kill -KILL "${kill_list[@]}" 2>/dev/null
  sleep 0.2
  say "processes ended"
fi

# Mounts under the run dir, deepest first; then the Pods' network namespaces.
mapfile -t mounts < <(awk -v r="$run" 'index($5, r) == 1 { print $5 }' /proc/self/mountinfo | sort -r)
for m in "${mounts[@]}"; do umount -l "$m" 2>/dev/null; done
((${#mounts[@]})) && say "unmounted ${#mounts[@]} mounts"
for ns in /run/netns/cni-*; do
  [[ -e $ns ]] || continue
  umount -l "$ns" 2>/dev/null
  rm -f "$ns"
done

# Links: the bridge (its veths went with the namespaces).
ip link show "$bridge" >/dev/null 2>&1 && ip link del "$bridge" && say "deleted link $bridge"

# iptables: kube-proxy's own cleanup, then every KUBE-* and CNI-* chain and the rules that jump
# to them, per table, for IPv4 and IPv6 (restore replaces a table with the filtered copy).
kube_proxy="$(cd "$(dirname "$0")/../../.." && pwd)/tools/bin/kube-proxy"
[[ -x $kube_proxy ]] && "$kube_proxy" --cleanup >/dev/null 2>&1 && say "kube-proxy --cleanup done"
for cmd in iptables ip6tables; do
  command -v "$cmd-save" >/dev/null || continue
  for table in filter nat mangle; do
    saved=$("$cmd-save" -t "$table" 2>/dev/null) || continue
    grep -qE 'KUBE-|CNI-' <<<"$saved" || continue
    grep -vE 'KUBE-|CNI-' <<<"$saved" | "$cmd-restore" -T "$table" && say "removed KUBE-*/CNI-* from $cmd $table"
  done
done

# nft tables created since the node started that hold no rules now.
if command -v nft >/dev/null && [[ -f $run/nft-tables.before ]]; then
  while read -r _ family name; do
    grep -qxF "table $family $name" "$run/nft-tables.before" && continue
    if ! nft list table "$family" "$name" | grep -vE '^\s*(table|chain|type|policy|}|$)' | grep -q .; then
      nft delete table "$family" "$name" && say "deleted empty nft table $family $name"
    fi
  done < <(nft list tables)
fi

# cgroups the kubelet made at the root of each v1 hierarchy (and in the unified one).
for hierarchy in /sys/fs/cgroup/*/; do
  [[ -d $hierarchy/kubepods ]] || continue
  find "$hierarchy/kubepods" -depth -type d -exec rmdir {} + 2>/dev/null
done

[[ -n $keep_dir ]] || rm -rf "$run"
exit 0

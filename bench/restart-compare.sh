#!/usr/bin/env bash
# Restart time and memory with many keys: one CurpStore member and one etcd 3.4 member (Debian's etcd-server), the same
# data written by the same load tool, measured in one run on this machine.
#   bench/restart-compare.sh [KEYS] [VALUE_SIZE]      (defaults: 1000000 keys of 256 bytes)
# For each system: fill KEYS distinct keys (64 clients), stop it (SIGTERM), start it again on the same data dir and
# time from the start until a linearizable get of the last key answers; then read the process's resident memory
# (VmRSS, and its peak VmHWM) and the data dir's size. Writes bench/results/restart-compare.csv, prints a table.
set -euo pipefail
keys=${1:-1000000}
value_size=${2:-256}
command -v etcdctl >/dev/null || { echo "etcdctl is missing: apt-get install -y etcd-client" >&2; exit 1; }
source "$(dirname "$0")/bench-env.sh" restart
csv="$repo/bench/results/restart-compare.csv"

pid=""
cleanup() {
  if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# start SYSTEM: starts one member in the background on ports 53379 (client) and 53380 (peer); sets $pid.
start() {
  local client=http://127.0.0.1:53379 peer=http://127.0.0.1:53380
  local flags=(--name m1 --data-dir "$work/$1" --listen-client-urls "$client" --advertise-client-urls "$client"
    --listen-peer-urls "$peer" --initial-advertise-peer-urls "$peer" --initial-cluster "m1=$peer")
  if [ "$1" = etcd ]; then
    etcd "${flags[@]}" --quota-backend-bytes 8589934592 >> "$work/$1.log" 2>&1 &
  else
    dotnet "$server" "${flags[@]}" >> "$work/$1.log" 2>&1 &
  fi
  pid=$!
}

stop() {
  kill -TERM "$pid"
  wait "$pid" 2>/dev/null || true
  pid=""
}

# Milliseconds since the epoch.
now_ms() { date +%s%3N; }

# Waits until a linearizable get of KEY answers (polling every 20 ms, at most 10 minutes).
wait_for_key() {
  local deadline=$(( $(now_ms) + 600000 ))
  until ETCDCTL_API=3 etcdctl --endpoints http://127.0.0.1:53379 --dial-timeout 1s --command-timeout 2s \
      get "$1" --keys-only -w json 2>/dev/null | grep -q '"count":1'; do
    [ "$(now_ms)" -lt "$deadline" ] || { echo "no answer within 10 minutes" >&2; return 1; }
    sleep 0.02
  done
}

kib() { awk -v field="$1:" '$1 == field { print $2 }' "/proc/$pid/status"; }

last_key=$(printf 'bench/%09d' $((keys - 1)))
echo "system,keys,value_size,fill_seconds,restart_ms,rss_mib,peak_rss_mib,data_dir_mib" > "$csv"
for system in curpstore etcd; do
  echo "== $system: filling $keys keys of $value_size bytes" >&2
  start "$system"
  sleep 1
  health_deadline=$(( $(now_ms) + 60000 ))
  until ETCDCTL_API=3 etcdctl --endpoints http://127.0.0.1:53379 --dial-timeout 1s endpoint health >/dev/null 2>&1; do
    [ "$(now_ms)" -lt "$health_deadline" ] || { echo "$system did not start" >&2; tail "$work/$system.log" >&2; exit 1; }
    sleep 0.1
  done
  fill_start=$(now_ms)
  dotnet "$bench" put --endpoints http://127.0.0.1:53379 --clients 64 --total "$keys" --key-space "$keys" \
    --value-size "$value_size" --sequential --target "$([ "$system" = etcd ] && echo etcd || echo curp)" 2>/dev/null
  fill_ms=$(( $(now_ms) - fill_start ))
  stop
  echo "== $system: restarting" >&2
  started=$(now_ms)
  start "$system"
  wait_for_key "$last_key"
  restart_ms=$(( $(now_ms) - started ))
  rss=$(kib VmRSS); peak=$(kib VmHWM)
  size=$(du -sm "$work/$system" | cut -f1)
  stop
  awk -v s="$system" -v k="$keys" -v v="$value_size" -v f="$fill_ms" -v r="$restart_ms" -v m="$rss" -v p="$peak" -v d="$size" \
    'BEGIN { printf "%s,%d,%d,%.1f,%d,%.0f,%.0f,%d\n", s, k, v, f / 1000, r, m / 1024, p / 1024, d }' >> "$csv"
done

echo
echo "| system | keys | restart (ms) | resident memory after restart (MiB) | peak (MiB) | data dir (MiB) | fill (s) |"
echo "|---|---|---|---|---|---|---|"
tail -n +2 "$csv" | while IFS=, read -r system k _ fill restart rss peak size; do
  echo "| $system | $k | $restart | $rss | $peak | $size | $fill |"
done

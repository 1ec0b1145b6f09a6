#!/usr/bin/env bash
# Puts against a 3-member CurpStore cluster and a 3-member etcd cluster (Debian's etcd-server) on loopback, in one run,
# with the same load tool: 1, 16, 64 and 256 clients. Writes bench/results/compare-etcd.csv and prints a markdown table.
#   bench/compare-etcd.sh [TOTAL_PER_POINT]      (default 5000 requests per point)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
total=${1:-5000}
work=$(mktemp -d /tmp/curpstore-compare.XXXXXX)
mkdir -p "$repo/bench/results"
csv="$repo/bench/results/compare-etcd.csv"
rm -f "$csv"
command -v etcd >/dev/null || { echo "etcd is missing: apt-get install -y etcd-server" >&2; exit 1; }

dotnet build "$repo/bench/Bench.csproj" -c Release -nologo -v quiet >/dev/null
dotnet build "$repo/src/Server/Server.csproj" -c Release -nologo -v quiet >/dev/null
bench="$repo/bench/bin/Release/net10.0/CurpStore.Bench.dll"

etcd_pids=()
cleanup() {
  for pid in "${etcd_pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  CURPSTORE_SERVER_DLL="$repo/src/Server/bin/Release/net10.0/CurpStore.Server.dll" \
    bash "$repo/deploy/local-cluster.sh" stop --state-dir "$work/curpstore" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# CurpStore: 3 members, clients on 51379/51389/51399.
CURPSTORE_SERVER_DLL="$repo/src/Server/bin/Release/net10.0/CurpStore.Server.dll" \
  bash "$repo/deploy/local-cluster.sh" start 3 --state-dir "$work/curpstore" --base-port 51379 >/dev/null
curp_endpoints="http://127.0.0.1:51379,http://127.0.0.1:51389,http://127.0.0.1:51399"

# etcd: 3 members, clients on 52379/52389/52399, the same default heartbeat and election timeout.
cluster="e1=http://127.0.0.1:52380,e2=http://127.0.0.1:52390,e3=http://127.0.0.1:52400"
for i in 1 2 3; do
  client=$((52379 + 10 * (i - 1))); peer=$((52380 + 10 * (i - 1)))
  etcd --name "e$i" --data-dir "$work/etcd$i" --listen-client-urls "http://127.0.0.1:$client" \
    --advertise-client-urls "http://127.0.0.1:$client" --listen-peer-urls "http://127.0.0.1:$peer" \
    --initial-advertise-peer-urls "http://127.0.0.1:$peer" --initial-cluster "$cluster" \
    --initial-cluster-state new --initial-cluster-token compare > "$work/etcd$i.log" 2>&1 &
  etcd_pids+=("$!")
done
etcd_endpoints="http://127.0.0.1:52379,http://127.0.0.1:52389,http://127.0.0.1:52399"

# Both clusters elect and serve before the first measured point (a warm-up run per system).
sleep 4
for target in curp etcd; do
  endpoints=$curp_endpoints; [ "$target" = etcd ] && endpoints=$etcd_endpoints
  dotnet "$bench" put --endpoints "$endpoints" --clients 16 --total 2000 --target "$target" >/dev/null 2>&1 || true
done

for clients in 1 16 64 256; do
  for target in curp etcd; do
    endpoints=$curp_endpoints; [ "$target" = etcd ] && endpoints=$etcd_endpoints
    points=$total; [ "$clients" = 1 ] && points=$((total / 5))
    dotnet "$bench" put --endpoints "$endpoints" --clients "$clients" --total "$points" --key-space 100000 \
      --value-size 256 --target "$target" --csv "$csv" 2>/dev/null
  done
done

echo
echo "| clients | CurpStore req/s | etcd req/s | ratio | CurpStore p50 / p99 ms | etcd p50 / p99 ms |"
echo "|---|---|---|---|---|---|"
awk -F, 'NR > 1 { key = $3; if ($1 == "curp") { c[key] = $7; cp50[key] = $8; cp99[key] = $10 } else { e[key] = $7; ep50[key] = $8; ep99[key] = $10 } }
  END { split("1 16 64 256", order, " "); for (i = 1; i <= 4; i++) { k = order[i];
    printf "| %s | %.0f | %.0f | %.2f | %.2f / %.2f | %.2f / %.2f |\n", k, c[k], e[k], c[k] / e[k], cp50[k], cp99[k], ep50[k], ep99[k] } }' "$csv"

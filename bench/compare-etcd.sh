#!/usr/bin/env bash
# Puts against a 3-member CurpStore cluster and a 3-member etcd cluster (Debian's etcd-server) on loopback, in one run,
# with the same load tool: 1, 16, 64 and 256 clients. Writes bench/results/compare-etcd.csv and prints a markdown table.
#   bench/compare-etcd.sh [TOTAL_PER_POINT]      (default 5000 requests per point)
set -euo pipefail
total=${1:-5000}
source "$(dirname "$0")/bench-env.sh" compare
csv="$repo/bench/results/compare-etcd.csv"
rm -f "$csv"

# CurpStore: 3 members, clients on 51379/51389/51399; etcd: 3 members, clients on 52379/52389/52399.
start_clusters 3 51379 52379

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

#!/usr/bin/env bash
# Overload: CurpStore and etcd 3.4 (Debian's etcd-server) on loopback, MEMBERS members each, driven by the same load
# tool. First a closed loop (64 clients, one put in flight each) finds the sustainable rate; then an open loop offers
# 10x that rate (64 clients, requests sent on schedule whatever the answers) twice: with at most 64 unanswered per
# client (4,096 in all, within CurpStore's 1,024 writes in flight plus 4,096 waiting), then with 128 (8,192, beyond
# it), and reports admitted puts, refusals by error, latency of the admitted ones and the members' peak resident memory.
# Writes bench/results/overload-MEMBERS.csv and prints a markdown table.
#   bench/overload-compare.sh [MEMBERS] [SECONDS]      (defaults: 1 member, 15 s per phase)
set -euo pipefail
members=${1:-1}
seconds=${2:-15}
source "$(dirname "$0")/bench-env.sh" overload
csv="$repo/bench/results/overload-$members.csv"
rm -f "$csv"

start_clusters "$members" 51479 52479

sleep 5
for target in curp etcd; do
  endpoints=$curp_endpoints; pids=$curp_pids
  [ "$target" = etcd ] && endpoints=$etcd_endpoints && pids=$etcd_pids
  dotnet "$bench" put --endpoints "$endpoints" --clients 16 --total 2000 --target "$target" >/dev/null 2>&1 || true
  sustainable=$(dotnet "$bench" put --endpoints "$endpoints" --clients 64 --seconds "$seconds" --value-size 256 \
    --target "$target" --member-pids "$pids" --csv "$csv" 2>/dev/null | tee /dev/stderr | sed -E 's/.* = ([0-9]+) req\/s.*/\1/')
  for outstanding in 64 128; do
    dotnet "$bench" put --endpoints "$endpoints" --clients 64 --seconds "$seconds" --value-size 256 \
      --rate $((sustainable * 10)) --max-outstanding "$outstanding" --target "$target" --member-pids "$pids" --csv "$csv" 2>/dev/null >&2
  done
done

echo
echo "| system ($members member(s)) | offered req/s | admitted req/s | held | refused: too many requests | not sent (unanswered bound) | other errors | admitted p50 / p99 ms | peak RSS MiB |"
echo "|---|---|---|---|---|---|---|---|---|"
awk -F, 'NR > 1 { name = ($1 == "curp" ? "CurpStore" : "etcd 3.4"); closed = ($15 == ""); if (closed) sustainable = $7; n++;
  offered = (closed ? "closed loop, 64 clients" : sprintf("%s, %d unanswered", $15, (n % 3 == 2 ? 4096 : 8192)));
  held = (closed ? "" : sprintf("%.0f%%", 100 * $7 / sustainable));
  printf "| %s | %s | %.0f | %s | %d | %d | %d | %.1f / %.1f | %.0f |\n", name, offered, $7, held, $16, $17, $5 - $16 - $17, $8, $10, $18 / 1024 }' "$csv"
echo
echo "(bench/results/overload-$members.csv; the tool's summary lines above name every error.)"

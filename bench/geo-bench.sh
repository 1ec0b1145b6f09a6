#!/usr/bin/env bash
# The geo benchmark (issue 6): CurpStore, CurpStore with the fast path off and Debian's etcd 3.4 through the WAN rig,
# three and five regions, clients in every region, conflict ratios 0/1/10/50/100 %. Writes bench/results/geo
# (points.csv, samples/, metrics/, plots/*.png, summary.md) and the README's "Geo benchmark" table.
# Needs root (network namespaces), etcd-server and gnuplot-nox. Extra flags go to `bench geo` (see its usage).
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build bench/Bench.csproj -c Release -nologo -v quiet
exec dotnet bench/bin/Release/net10.0/CurpStore.Bench.dll geo --out bench/results/geo --readme README.md "$@"

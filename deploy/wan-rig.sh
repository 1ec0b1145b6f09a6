#!/usr/bin/env bash
# The local multi-region launcher is the WAN rig (geo-sim/Rig, README "WAN rig"): real members in network namespaces
# with the per-pair delays of a topology file (deploy/topologies is geo-sim/topologies). This only forwards to it.
#   sudo deploy/wan-rig.sh up --topology deploy/topologies/three-regions.json --system curpstore --members 3
#   sudo deploy/wan-rig.sh cut-region ap-south | heal-all | status | down
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
exec dotnet run -c Release --project "$repo/geo-sim/Rig" -- "$@"

# Sourced by the comparison scripts (bench/*-compare.sh): checks that Debian's etcd is installed, builds the load tool
# and the server (Release), and sets
#   repo    the repository root
#   bench   the load tool's dll          server  the server's dll
#   work    a new temp folder named after $1 (the caller's trap removes it)
# and makes bench/results for the CSV files.
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
command -v etcd >/dev/null || { echo "etcd is missing: apt-get install -y etcd-server" >&2; exit 1; }
mkdir -p "$repo/bench/results"
dotnet build "$repo/bench/Bench.csproj" -c Release -nologo -v quiet >/dev/null
dotnet build "$repo/src/Server/Server.csproj" -c Release -nologo -v quiet >/dev/null
bench="$repo/bench/bin/Release/net10.0/CurpStore.Bench.dll"
server="$repo/src/Server/bin/Release/net10.0/CurpStore.Server.dll"
work=$(mktemp -d "/tmp/curpstore-$1.XXXXXX")

# start_clusters MEMBERS CURP_BASE_PORT ETCD_BASE_PORT: starts a CurpStore cluster (deploy/local-cluster.sh) and an
# etcd cluster of MEMBERS members each on loopback, member i on client port BASE + 10 (i - 1) and that + 1 for peers,
# with etcd's default heartbeat and election timeout on both; stops both on exit. Sets curp_endpoints,
# etcd_endpoints (comma-separated client URLs) and curp_pids, etcd_pids (comma-separated process ids).
start_clusters() {
  local members=$1 curp_base=$2 etcd_base=$3 i
  etcd_pid_array=()
  trap stop_clusters EXIT
  CURPSTORE_SERVER_DLL="$server" bash "$repo/deploy/local-cluster.sh" start "$members" --state-dir "$work/curpstore" \
    --base-port "$curp_base" >/dev/null
  curp_pids=$(paste -sd, "$work/curpstore/pids")
  curp_endpoints=$(seq 0 $((members - 1)) | awk -v base="$curp_base" '{ printf "%shttp://127.0.0.1:%d", (NR > 1 ? "," : ""), base + 10 * $1 }')
  etcd_endpoints=$(seq 0 $((members - 1)) | awk -v base="$etcd_base" '{ printf "%shttp://127.0.0.1:%d", (NR > 1 ? "," : ""), base + 10 * $1 }')
  local cluster
  cluster=$(seq 1 "$members" | awk -v base="$etcd_base" '{ printf "%se%d=http://127.0.0.1:%d", (NR > 1 ? "," : ""), $1, base + 1 + 10 * ($1 - 1) }')
  for i in $(seq 1 "$members"); do
    local client=$((etcd_base + 10 * (i - 1))) peer=$((etcd_base + 1 + 10 * (i - 1)))
    etcd --name "e$i" --data-dir "$work/etcd$i" --listen-client-urls "http://127.0.0.1:$client" \
      --advertise-client-urls "http://127.0.0.1:$client" --listen-peer-urls "http://127.0.0.1:$peer" \
      --initial-advertise-peer-urls "http://127.0.0.1:$peer" --initial-cluster "$cluster" \
      --initial-cluster-state new --initial-cluster-token bench > "$work/etcd$i.log" 2>&1 &
    etcd_pid_array+=("$!")
  done
  etcd_pids=$(IFS=,; echo "${etcd_pid_array[*]}")
}

stop_clusters() {
  for pid in "${etcd_pid_array[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  CURPSTORE_SERVER_DLL="$server" bash "$repo/deploy/local-cluster.sh" stop --state-dir "$work/curpstore" >/dev/null 2>&1 || true
  rm -rf "$work"
}

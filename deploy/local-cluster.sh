#!/usr/bin/env bash
# Starts or stops a CurpStore cluster on loopback: separate processes, separate data dirs.
#   deploy/local-cluster.sh start [3|5] [--state-dir DIR] [--base-port P] [-- extra server flags]   prints the endpoints
#   deploy/local-cluster.sh stop  [--state-dir DIR]                                  stops exactly what start started
#   deploy/local-cluster.sh start-member N [--state-dir DIR]                         restarts member N (after a crash)
#   deploy/local-cluster.sh add-member N [--learner] [--state-dir DIR]               adds member N to the running cluster
#                                                                                    (etcdctl member add) and starts it
#   deploy/local-cluster.sh status [--state-dir DIR]
# Member i (1-based) listens for clients on 127.0.0.1:(P + 10*(i-1)) and for peers on 127.0.0.1:(P + 1 + 10*(i-1)),
# P = 2379 unless --base-port says otherwise.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
command=${1:-}
shift || true
size=3
base_port=2379
state_dir=${CURPSTORE_CLUSTER_DIR:-/tmp/curpstore-local-cluster}
extra=()
learner=""
while [ $# -gt 0 ]; do
  case "$1" in
    [0-9]*) size=$1 ;;
    --learner) learner="--learner" ;;
    --state-dir) state_dir=$2; shift ;;
    --base-port) base_port=$2; shift ;;
    --) shift; extra=("$@"); break ;;
    *) echo "local-cluster: unknown argument '$1'" >&2; exit 2 ;;
  esac
  shift
done

member_pids() { [ -f "$state_dir/pids" ] && cat "$state_dir/pids" || true; }

# write_member_args SERVER N CLIENT PEER CLUSTER STATE [EXTRA...]: one argument per line, kept so that start-member
# can restart exactly this member.
write_member_args() {
  local server=$1 n=$2 client=$3 peer=$4 cluster=$5 state=$6
  shift 6
  printf '%s\n' "$server" --name "m$n" --data-dir "$state_dir/m$n.curpstore" \
    --listen-client-urls "$client" --advertise-client-urls "$client" \
    --listen-peer-urls "$peer" --initial-advertise-peer-urls "$peer" \
    --initial-cluster "$cluster" --initial-cluster-state "$state" --initial-cluster-token local-cluster \
    "$@" > "$state_dir/m$n.args"
}

case "$command" in
  start)
    if [ -n "$(member_pids)" ]; then
      echo "local-cluster: a cluster started from $state_dir is still recorded; run '$0 stop --state-dir $state_dir' first" >&2
      exit 1
    fi
    mkdir -p "$state_dir"
    # CURPSTORE_SERVER_DLL names a server already built (tests pass their own copy); otherwise build it now.
    server=${CURPSTORE_SERVER_DLL:-}
    if [ -z "$server" ]; then
      dotnet build "$repo/src/Server/Server.csproj" -c Release -nologo -v quiet >/dev/null
      server="$repo/src/Server/bin/Release/net10.0/CurpStore.Server.dll"
    fi
    cluster=""
    for i in $(seq 1 "$size"); do
      cluster+="m$i=http://127.0.0.1:$((base_port + 1 + 10 * (i - 1))),"
    done
    cluster=${cluster%,}
    : > "$state_dir/pids"
    endpoints=""
    for i in $(seq 1 "$size"); do
      client="http://127.0.0.1:$((base_port + 10 * (i - 1)))"
      peer="http://127.0.0.1:$((base_port + 1 + 10 * (i - 1)))"
      write_member_args "$server" "$i" "$client" "$peer" "$cluster" new "${extra[@]}"
      mapfile -t member_args < "$state_dir/m$i.args"
      dotnet "${member_args[@]}" > "$state_dir/m$i.log" 2>&1 &
      echo "$!" >> "$state_dir/pids"
      endpoints+="$client,"
    done
    echo "${endpoints%,}" > "$state_dir/endpoints"
    echo "started $size members (logs and data in $state_dir)"
    echo "endpoints: ${endpoints%,}"
    ;;
  stop)
    pids=$(member_pids)
    if [ -z "$pids" ]; then
      echo "local-cluster: nothing recorded in $state_dir" >&2
      exit 0
    fi
    for pid in $pids; do
      # Only our own processes: the pid must still run the CurpStore server.
      if [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q CurpStore.Server; then
        kill -TERM "$pid" 2>/dev/null || true
      fi
    done
    for pid in $pids; do
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    done
    rm -f "$state_dir/pids"
    echo "stopped"
    ;;
  start-member)
    member=$size
    if [ ! -f "$state_dir/m$member.args" ]; then
      echo "local-cluster: no member $member recorded in $state_dir" >&2
      exit 1
    fi
    mapfile -t member_args < "$state_dir/m$member.args"
    dotnet "${member_args[@]}" >> "$state_dir/m$member.log" 2>&1 &
    pid=$!
    # Replace the member's line in the pid list (line N is member N).
    awk -v n="$member" -v pid="$pid" 'NR == n { print pid; next } { print }' "$state_dir/pids" > "$state_dir/pids.new"
    mv "$state_dir/pids.new" "$state_dir/pids"
    echo "restarted member $member (pid $pid)"
    ;;
  add-member)
    # Member N joins the cluster recorded in the state dir: etcdctl asks the cluster to add it (as etcd's runtime
    # reconfiguration does), then it starts with --initial-cluster-state existing, catches up from the leader and
    # publishes its name and client URL. The server binary, ports and extra flags follow member 1's.
    member=$size
    if [ -f "$state_dir/m$member.args" ]; then
      echo "local-cluster: member $member is already recorded in $state_dir (use start-member to restart it)" >&2
      exit 1
    fi
    if [ ! -f "$state_dir/m1.args" ] || [ -z "$(member_pids)" ]; then
      echo "local-cluster: no running cluster recorded in $state_dir; start one first" >&2
      exit 1
    fi
    if ! command -v etcdctl >/dev/null; then
      echo "local-cluster: add-member needs etcdctl (sudo apt-get install -y etcd-client)" >&2
      exit 1
    fi
    mapfile -t first_args < "$state_dir/m1.args"
    server=${first_args[0]}
    value_after() {
      local flag=$1 i
      for i in "${!first_args[@]}"; do
        if [ "${first_args[$i]}" = "$flag" ]; then echo "${first_args[$((i + 1))]}"; fi
      done
    }
    first_client=$(value_after --listen-client-urls)
    base_port=${first_client##*:}
    cluster_list=$(value_after --initial-cluster)
    # Extra server flags: whatever follows the cluster token in member 1's arguments.
    extra=()
    for i in "${!first_args[@]}"; do
      if [ "${first_args[$i]}" = "--initial-cluster-token" ]; then extra=("${first_args[@]:$((i + 2))}"); fi
    done
    client="http://127.0.0.1:$((base_port + 10 * (member - 1)))"
    peer="http://127.0.0.1:$((base_port + 1 + 10 * (member - 1)))"
    ETCDCTL_API=3 etcdctl --endpoints "$(cat "$state_dir/endpoints")" --command-timeout=15s member add "m$member" --peer-urls="$peer" $learner
    write_member_args "$server" "$member" "$client" "$peer" "$cluster_list,m$member=$peer" existing "${extra[@]}"
    mapfile -t member_args < "$state_dir/m$member.args"
    dotnet "${member_args[@]}" > "$state_dir/m$member.log" 2>&1 &
    echo "$!" >> "$state_dir/pids"
    echo "$(cat "$state_dir/endpoints"),$client" > "$state_dir/endpoints"
    echo "added member $member${learner:+ as a learner} (pid $!): client $client, peer $peer"
    if [ -n "$learner" ]; then
      echo "promote it once it has caught up: etcdctl --endpoints $(cat "$state_dir/endpoints") member promote <id>"
    fi
    ;;
  status)
    for pid in $(member_pids); do
      if kill -0 "$pid" 2>/dev/null; then echo "$pid running"; else echo "$pid gone"; fi
    done
    [ -f "$state_dir/endpoints" ] && echo "endpoints: $(cat "$state_dir/endpoints")"
    ;;
  *)
    sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac

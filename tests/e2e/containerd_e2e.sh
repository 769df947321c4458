#!/usr/bin/env bash
# containerd end-to-end suite: a containerd of the suite's own runs containers through its
# runc v2 shim with brick as the runc binary (ctr run --runc-binary BRICK), on an OCI
# image built here from the embedded rootfs, with the overlayfs and the native snapshotter.
#
#   tests/e2e/containerd_e2e.sh build/brick build/rootfs [CASE_REGEX]
#
# Every case prints PASS or FAIL with the reason; the script exits 1 if any case failed.
# The daemon has its own config, root, state, socket and namespace under a temp dir and is
# stopped by its pid on exit. The shim gets --runc-root inside the temp dir too, so brick's
# state for these containers lives there and `brick --root` can read it: that is how the
# suite proves brick, not runc, ran them. Everything is removed on exit, whatever happens.
#
# Only CRI-created containers take runtime options (BinaryName) from containerd's config;
# ctr passes them per container, which is what --runc-binary does. docs/kubernetes.md has
# the CRI configuration.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"
# No case reads the suite's own stdin (CI may give none); each brings its own.
exec </dev/null

if (($# < 2)); then
  echo "usage: $0 BRICK ROOTFS [CASE_REGEX]" >&2
  exit 2
fi
BRICK=$(realpath "$1")
ROOTFS=$(realpath "$2")
ONLY=${3:-}
[[ -x "$BRICK" ]] || { echo "containerd_e2e: $BRICK is not an executable" >&2; exit 2; }
[[ -x "$ROOTFS/bin/busybox" ]] || { echo "containerd_e2e: $ROOTFS has no bin/busybox" >&2; exit 2; }
for tool in containerd ctr containerd-shim-runc-v2 tar sha256sum script; do
  command -v "$tool" >/dev/null ||
    { echo "containerd_e2e: $tool not found; scripts/bootstrap.sh installs it" >&2; exit 2; }
done
[[ $(id -u) -eq 0 ]] || { echo "containerd_e2e: must run as root" >&2; exit 2; }

WORK=$(mktemp -d /tmp/brick-containerd-e2e.XXXXXX)
NS=brick-e2e-$$               # containerd namespace; ctr's default cgroup is /$NS/<id>
SOCK=$WORK/containerd.sock
BRICK_ROOT=$WORK/brick-root   # the shim runs brick --root $BRICK_ROOT/$NS
IMAGE=localhost/brick-containerd-e2e:latest
DAEMON_PID=
# ctr keeps its fifos in /run/containerd/fifo and the shim its socket in
# /run/containerd/s (both fixed paths): remove those directories after us if we made them.
RUN_DIRS_EXISTED=0
[[ -e /run/containerd ]] && RUN_DIRS_EXISTED=1

c() { ctr --address "$SOCK" --namespace "$NS" "$@"; }
# crun SNAPSHOTTER ARGS...: `ctr run` through the shim with brick as its runc.
crun() {
  local snapshotter=$1
  shift
  c run --snapshotter "$snapshotter" --runc-binary "$BRICK" --runc-root "$BRICK_ROOT" "$@"
}
bstate() { "$BRICK" --root "$BRICK_ROOT/$NS" "$@"; }

# The shims this suite's daemon started: they name its socket on their command line.
our_shims() {
  local pid
  for pid in $(pgrep -x containerd-shim || true) $(pgrep -f containerd-shim-runc-v2 || true); do
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "-address $SOCK " && echo "$pid"
  done | sort -u
}

cleanup() {
  set +e
  if [[ -n "$DAEMON_PID" ]] && kill -0 "$DAEMON_PID" 2>/dev/null; then
    local id
    for id in $(c task ls -q 2>/dev/null); do
      c task kill -s KILL "$id" >/dev/null 2>&1
      c task delete -f "$id" >/dev/null 2>&1
    done
    for id in $(c container ls -q 2>/dev/null); do
      c container delete "$id" >/dev/null 2>&1
    done
  fi
  # Shim sockets of shims that cleanup has to kill: the shims cannot remove them then.
  local sockets=() pid
  mapfile -t sockets < <(sed -n 's|^unix://||p' \
    "$WORK"/state/io.containerd.runtime.v2.task/*/*/address 2>/dev/null)
  for pid in $(our_shims); do
    kill -KILL "$pid" 2>/dev/null
  done
  rm -f "${sockets[@]}"
  if [[ -n "$DAEMON_PID" ]]; then
    kill -TERM "$DAEMON_PID" 2>/dev/null
    local i
    for ((i = 0; i < 100; i++)); do
      kill -0 "$DAEMON_PID" 2>/dev/null || break
      sleep 0.05
    done
    kill -KILL "$DAEMON_PID" 2>/dev/null
    wait "$DAEMON_PID" 2>/dev/null
  fi
  local dir
  for dir in "$BRICK_ROOT/$NS"/*/; do
    [[ -d "$dir" ]] && bstate delete --force "$(basename "$dir")" >/dev/null 2>&1
  done
  unmount_under "$WORK"
  remove_cgroup_tree "/$NS"
  rm -rf "$WORK"
  if ((RUN_DIRS_EXISTED == 0)); then
    rmdir /run/containerd/fifo /run/containerd/s /run/containerd 2>/dev/null
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the daemon and the image -------------------------------------------------------------

start_containerd() {
  mkdir -p "$WORK/tmp"
  cat >"$WORK/config.toml" <<EOF
version = 2
root = "$WORK/root"
state = "$WORK/state"
temp = "$WORK/tmp"
# The cases drive containerd with ctr; CRI is loaded only to check that it takes the
# brick runtime of docs/kubernetes.md (its CNI directories are empty: no pod runs here).
disabled_plugins = [
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs",
  "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.internal.v1.tracing",
]

[grpc]
  address = "$SOCK"

[ttrpc]
  address = "$SOCK.ttrpc"

[debug]
  address = ""

[metrics]
  address = ""

[plugins]
  [plugins."io.containerd.internal.v1.opt"]
    path = "$WORK/opt"

  [plugins."io.containerd.grpc.v1.cri"]
    disable_tcp_service = true
    stream_server_address = "127.0.0.1"
    stream_server_port = "0"
    [plugins."io.containerd.grpc.v1.cri".cni]
      conf_dir = "$WORK/cni/net.d"
      bin_dir = "$WORK/cni/bin"
    # As in docs/kubernetes.md, with this build's brick.
    [plugins."io.containerd.grpc.v1.cri".containerd]
      default_runtime_name = "runc"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.brick]
        runtime_type = "io.containerd.runc.v2"
        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.brick.options]
          BinaryName = "$BRICK"
          SystemdCgroup = false
EOF
  mkdir -p "$WORK/cni/net.d" "$WORK/cni/bin"
  containerd --config "$WORK/config.toml" --log-level info >"$WORK/containerd.log" 2>&1 &
  DAEMON_PID=$!
  local i
  for ((i = 0; i < 200; i++)); do
    if c version >/dev/null 2>&1; then
      return 0
    fi
    kill -0 "$DAEMON_PID" 2>/dev/null || break
    sleep 0.05
  done
  echo "FAIL setup: containerd did not come up: $(tail -n 5 "$WORK/containerd.log")"
  exit 1
}

# An OCI image layout archive of the rootfs, one uncompressed layer, built by hand.
build_image() {
  local layout=$WORK/layout blobs=$WORK/layout/blobs/sha256
  mkdir -p "$blobs"
  # blob FILE: moves FILE into the layout under its digest and prints the digest.
  blob() {
    local d
    d=$(sha256sum "$1" | cut -d' ' -f1)
    mv "$1" "$blobs/$d"
    echo "$d"
  }
  size() { stat -c %s "$blobs/$1"; }
  tar -C "$ROOTFS" --exclude=./CMakeFiles --exclude=./CTestTestfile.cmake \
    --exclude=./cmake_install.cmake -cf "$WORK/layer.tar" .
  local layer config manifest
  layer=$(blob "$WORK/layer.tar")
  printf '{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["/bin/sh"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
    "$layer" >"$WORK/config.json"
  config=$(blob "$WORK/config.json")
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%d},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%d}]}' \
    "$config" "$(size "$config")" "$layer" "$(size "$layer")" >"$WORK/manifest.json"
  manifest=$(blob "$WORK/manifest.json")
  printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%d,"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"latest"}}]}' \
    "$manifest" "$(size "$manifest")" "$IMAGE" >"$layout/index.json"
  echo '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"
  tar -C "$layout" -cf "$WORK/image.tar" oci-layout index.json blobs
  if ! c image import "$WORK/image.tar" >"$WORK/import.log" 2>&1; then
    echo "FAIL setup: ctr image import: $(<"$WORK/import.log")"
    exit 1
  fi
}

# --- helpers for cases ------------------------------------------------------------------

# start_detached SNAPSHOTTER ID CMD...: a running task; prints nothing.
start_detached() {
  local snapshotter=$1 id=$2
  shift 2
  run crun "$snapshotter" -d "$IMAGE" "$id" "$@"
  expect_rc 0 "ctr run -d $id ($snapshotter)"
}

task_pid() {
  local pid
  pid=$(c task ls | awk -v id="$1" '$1 == id { print $2 }')
  [[ -n "$pid" && "$pid" != 0 ]] || fail "task $1 has no pid: $(c task ls)"
  echo "$pid"
}

task_status() { c task ls | awk -v id="$1" '$1 == id { print $3 }'; }

# wait_for_status ID STATUS: waits until the task reports STATUS. Gives up after 20 s.
wait_for_status() {
  local i
  for ((i = 0; i < 400; i++)); do
    [[ "$(task_status "$1")" == "$2" ]] && return 0
    sleep 0.05
  done
  fail "task $1 is $(task_status "$1"), never $2"
}

# forget ID: removes task and container ID whatever their state.
forget() {
  c task delete -f "$1" >/dev/null 2>&1 || true
  c container delete "$1" >/dev/null 2>&1 || true
}

# --- the cases (each runs once per snapshotter: case_NAME_SNAPSHOTTER) -------------------

do_run() {
  local snap=$1 fs
  run crun "$snap" --rm "$IMAGE" "run-$snap" sh -c \
    'echo hello; awk "\$5 == \"/\" { print \$9 }" /proc/self/mountinfo; exit 3'
  expect_rc 3 "ctr run --rm ... exit 3"
  fs=${OUT#hello$'\n'}
  [[ "$OUT" == hello$'\n'* ]] || fail "ctr run: stdout '$OUT', expected hello first"
  if [[ "$snap" == overlayfs ]]; then
    [[ "$fs" == overlay ]] || fail "root filesystem is '$fs' with the overlayfs snapshotter"
  else
    [[ "$fs" != overlay ]] || fail "root filesystem is overlay with the native snapshotter"
  fi
  ! c container ls -q | grep -qx "run-$snap" || fail "ctr run --rm left container run-$snap"
  [[ ! -e "$BRICK_ROOT/$NS/run-$snap" ]] || fail "brick state $BRICK_ROOT/$NS/run-$snap left after --rm"
}

do_brick_is_the_runtime() {
  # brick's own state for the task, read by brick: runc would have written a state brick
  # cannot read, in a place brick does not look.
  local snap=$1 id=brick-$1
  start_detached "$snap" "$id" sleep 300
  run bstate state "$id"
  expect_rc 0 "brick --root $BRICK_ROOT/$NS state $id"
  [[ "$OUT" == *'"status": "running"'* ]] || fail "brick state of $id: $OUT"
  [[ "$OUT" == *"\"pid\": $(task_pid "$id")"* ]] || fail "brick's pid for $id differs from containerd's: $OUT"
  forget "$id"
}

do_stdin_and_fds() {
  local snap=$1
  run crun "$snap" --rm "$IMAGE" "io-$snap" sh -c 'read -r x; echo "got:$x"; ls /proc/self/fd' <<<"piped"
  expect_rc 0 "ctr run with stdin"
  # ls's own directory fd is 3.
  expect_out $'got:piped\n0\n1\n2\n3' "stdin reaches the container; no fd beyond 0-2 leaks into it"
}

do_tty() {
  local snap=$1
  # ctr -t needs a terminal of its own: script(1) gives it one.
  run script -qec "ctr --address $SOCK --namespace $NS run --snapshotter $snap --runc-binary $BRICK --runc-root $BRICK_ROOT --rm -t $IMAGE tty-$snap sh -c 'test -t 0 && test -t 1 && echo is-a-tty'" /dev/null </dev/null
  expect_rc 0 "ctr run -t"
  [[ "$OUT" == *is-a-tty* ]] || fail "ctr run -t: the container has no terminal: '$OUT' $ERR"
}

do_ps() {
  local snap=$1 id=ps-$1 pid expected got
  start_detached "$snap" "$id" sh -c 'sleep 300 & sleep 301 & wait'
  pid=$(task_pid "$id")
  wait_for_children "$pid" 2
  expected=$( (echo "$pid"; cat /proc/"$pid"/task/*/children | tr ' ' '\n') | grep . | sort -n | tr '\n' ' ')
  run c task ps "$id"
  expect_rc 0 "ctr task ps"
  got=$(awk 'NR > 1 { print $1 }' <<<"$OUT" | sort -n | tr '\n' ' ')
  [[ "$got" == "$expected" ]] || fail "ctr task ps lists '$got', the container has '$expected'"
  forget "$id"
}

do_exec() {
  local snap=$1 id=exec-$1
  start_detached "$snap" "$id" sleep 300
  run c task exec --exec-id e1 "$id" sh -c 'echo exec-ok; cat /proc/1/cmdline | tr "\0" " "; exit 4'
  expect_rc 4 "ctr task exec ... exit 4"
  expect_out 'exec-ok
sleep 300 ' "ctr task exec sees the container's pid 1"
  run c task exec --exec-id e2 "$id" ls /proc/self/fd
  expect_rc 0 "ctr task exec ls /proc/self/fd"
  expect_out $'0\n1\n2\n3' "fds open in an exec'd process"
  forget "$id"
}

do_pause_resume() {
  local snap=$1 id=pause-$1 file frozen=FROZEN thawed=THAWED
  start_detached "$snap" "$id" sleep 300
  file=$(cgroup_file_of "$(task_pid "$id")" freezer freezer.state cgroup.freeze)
  if [[ "$file" == */cgroup.freeze ]]; then
    frozen=1 thawed=0
  fi
  run c task pause "$id"
  expect_rc 0 "ctr task pause"
  [[ "$(task_status "$id")" == PAUSED ]] || fail "task is $(task_status "$id") after pause"
  [[ $(<"$file") == "$frozen" ]] || fail "$file is '$(<"$file")' after pause, expected $frozen"
  run bstate state "$id"
  [[ "$OUT" == *'"status": "paused"'* ]] || fail "brick state after pause: $OUT"
  run c task resume "$id"
  expect_rc 0 "ctr task resume"
  [[ "$(task_status "$id")" == RUNNING ]] || fail "task is $(task_status "$id") after resume"
  [[ $(<"$file") == "$thawed" ]] || fail "$file is '$(<"$file")' after resume, expected $thawed"
  forget "$id"
}

do_kill() {
  local snap=$1 id=kill-$1
  start_detached "$snap" "$id" sh -c 'trap "exit 9" USR1; sleep 300 & wait'
  wait_for_handler "$(task_pid "$id")" 10
  run c task kill -s SIGUSR1 "$id"
  expect_rc 0 "ctr task kill -s SIGUSR1"
  wait_for_status "$id" STOPPED
  run c task delete "$id"
  expect_rc 0 "ctr task delete"
  [[ "$ERR" == *"exit code 9"* ]] || fail "exit status after SIGUSR1 is not 9 (the trap's): $ERR"
  c container delete "$id" >/dev/null
  local id2=kill2-$snap
  start_detached "$snap" "$id2" sleep 300
  run c task kill -s SIGKILL "$id2"
  expect_rc 0 "ctr task kill -s SIGKILL"
  wait_for_status "$id2" STOPPED
  run c task delete "$id2"
  [[ "$ERR" == *"exit code 137"* ]] || fail "exit status after SIGKILL is not 137: $ERR"
  c container delete "$id2" >/dev/null
}

do_delete() {
  local snap=$1 id=del-$1 pid d
  start_detached "$snap" "$id" sleep 300
  pid=$(task_pid "$id")
  run c task delete "$id"
  ((RC != 0)) || fail "ctr task delete of a running task succeeded"
  [[ "$(task_status "$id")" == RUNNING ]] || fail "task is $(task_status "$id") after a refused delete"
  run c task delete -f "$id"
  expect_rc 0 "ctr task delete -f of a running task"
  [[ -z "$(task_status "$id")" ]] || fail "task still listed after delete -f"
  ! kill -0 "$pid" 2>/dev/null || fail "the container's init $pid outlived delete -f"
  [[ ! -e "$BRICK_ROOT/$NS/$id" ]] || fail "brick state $BRICK_ROOT/$NS/$id left after delete -f"
  for d in /sys/fs/cgroup/*/"$NS/$id"; do
    [[ ! -d "$d" ]] || fail "cgroup $d left after delete -f"
  done
  ! grep -qF "/$NS/$id/rootfs " /proc/self/mountinfo || fail "the rootfs of $id is still mounted"
  run c container delete "$id"
  expect_rc 0 "ctr container delete"
  [[ -z "$(c snapshot --snapshotter "$snap" ls | awk -v id="$id" '$1 == id')" ]] ||
    fail "the $snap snapshot of $id outlived ctr container delete"
}

case_cri_runtime_config() {
  # CI cannot run a kubelet; this checks that containerd's CRI plugin loads with the
  # brick runtime handler configured as docs/kubernetes.md says.
  run c plugins ls
  grep -Eq 'io\.containerd\.grpc\.v1[[:space:]]+cri[[:space:]].*[[:space:]]ok' <<<"$OUT" ||
    fail "the CRI plugin did not load: $(grep -i cri <<<"$OUT"); $(grep -i 'level=error' "$WORK/containerd.log" | tail -n 3)"
  grep -qF "brick:{Type:io.containerd.runc.v2" "$WORK/containerd.log" ||
    fail "the CRI plugin has no brick runtime: $(grep -F 'Start cri plugin' "$WORK/containerd.log" | head -c 600)"
  grep -qF "BinaryName:$BRICK " "$WORK/containerd.log" ||
    fail "the CRI brick runtime does not name $BRICK as BinaryName"
}

case_nothing_left_behind() {
  local left=()
  [[ -z "$(c task ls -q)" ]] || left+=("tasks: $(c task ls -q | tr '\n' ' ')")
  [[ -z "$(ls -A "$BRICK_ROOT/$NS" 2>/dev/null)" ]] || left+=("brick state: $(ls -A "$BRICK_ROOT/$NS")")
  local d
  for d in /sys/fs/cgroup/*/"$NS"/*/; do
    [[ -d "$d" ]] && left+=("cgroup $d")
  done
  [[ -z "$(our_shims)" ]] || left+=("shims: $(our_shims | tr '\n' ' ')")
  ((${#left[@]} == 0)) || fail "left behind after every task was deleted: ${left[*]}"
}

# shellcheck disable=SC2034  # read by run_cases in lib.sh
CASES=()
for snap in overlayfs native; do
  for what in run brick_is_the_runtime stdin_and_fds tty ps exec pause_resume kill delete; do
    eval "case_${what}_$snap() { do_$what $snap; }"
    CASES+=("${what}_$snap")
  done
done
CASES+=(cri_runtime_config nothing_left_behind)

# After a failed case: remove what it did not get to.
case_cleanup() {
  local id
  for id in $(c task ls -q); do c task delete -f "$id"; done
  for id in $(c container ls -q); do c container delete "$id"; done
}

# --- main -------------------------------------------------------------------------------

start_containerd
build_image
echo "containerd $(containerd --version | awk '{ print $3 }'), runc shim with --runc-binary $BRICK, image $IMAGE"
run_cases "$ONLY"

#!/usr/bin/env bash
# podman end-to-end suite: podman drives brick as its OCI runtime (podman --runtime BRICK),
# on an image that `podman import` makes from the embedded rootfs.
#
#   tests/e2e/podman_e2e.sh build/brick build/rootfs [CASE_REGEX]
#
# Every case prints PASS or FAIL with the reason; the script exits 1 if any case failed.
# podman runs with storage, libpod state, locks, events, network config and cgroup parent
# of its own under a temp dir, so it never touches the host's default store. brick keeps
# its default state root (/run/brick), because podman never passes --root (podman 4.3
# also drops --runtime-flag from its exit command, so a --root given that way would
# leave state behind). Everything the suite creates is removed on exit, whatever happens.
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
[[ -x "$BRICK" ]] || { echo "podman_e2e: $BRICK is not an executable" >&2; exit 2; }
[[ -x "$ROOTFS/bin/busybox" ]] || { echo "podman_e2e: $ROOTFS has no bin/busybox" >&2; exit 2; }
for tool in podman conmon tar; do
  command -v "$tool" >/dev/null ||
    { echo "podman_e2e: $tool not found; scripts/bootstrap.sh installs it" >&2; exit 2; }
done
[[ $(id -u) -eq 0 ]] || { echo "podman_e2e: must run as root" >&2; exit 2; }

BRICK_STATE=/run/brick  # brick's default --root, the one podman gets
WORK=$(mktemp -d /tmp/brick-podman-e2e.XXXXXX)
CGPARENT=/brick-podman-e2e-$$
IMAGE=localhost/brick-podman-e2e:latest
# Root lacks CAP_SYS_RESOURCE on some CI machines, so podman's default nofile (1048576)
# cannot be set there.
ULIMITS=(--ulimit nofile=1024:1024 --ulimit nproc=1024:1024)

export CONTAINERS_STORAGE_CONF=$WORK/storage.conf
export CONTAINERS_CONF=$WORK/containers.conf
cat >"$CONTAINERS_STORAGE_CONF" <<EOF
[storage]
driver = "vfs"
graphroot = "$WORK/storage"
runroot = "$WORK/runroot"
EOF
cat >"$CONTAINERS_CONF" <<EOF
[engine]
# As docs/podman.md tells users: podman then passes --log-format=json and reads brick's
# errors from the log.
runtime_supports_json = ["brick"]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$WORK/events.log"
tmp_dir = "$WORK/libpod-tmp"
static_dir = "$WORK/storage/libpod"
volume_path = "$WORK/storage/volumes"
lock_type = "file"

[network]
network_config_dir = "$WORK/net"
EOF

# podman with everything pointed into $WORK (the flags repeat the config files on purpose:
# either alone keeps the host store out of reach).
pm() {
  podman --root "$WORK/storage" --runroot "$WORK/runroot" --storage-driver vfs \
    --tmpdir "$WORK/libpod-tmp" --cgroup-manager cgroupfs --events-backend file \
    --runtime "$BRICK" "$@"
}
# podman run with the flags every container here needs.
prun() { pm run --network none --cgroup-parent "$CGPARENT" "${ULIMITS[@]}" "$@"; }

# Ids of every container podman created, from its event log.
created_ids() {
  [[ -f "$WORK/events.log" ]] || return 0
  sed -n 's/^{"ID":"\([0-9a-f]\{64\}\)".*"Status":"create".*/\1/p' "$WORK/events.log" | sort -u
}

cleanup() {
  set +e
  pm rm -af -t 0 >/dev/null 2>&1
  pm rmi -af >/dev/null 2>&1
  # conmon processes this suite started name $WORK on their command line.
  local pid
  for pid in $(pgrep -x conmon); do
    if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$WORK/"; then
      kill -KILL "$pid" 2>/dev/null
    fi
  done
  local id
  for id in $(created_ids); do
    [[ -d "$BRICK_STATE/$id" ]] && "$BRICK" delete --force "$id" >/dev/null 2>&1
  done
  unmount_under "$WORK"  # podman's shm mounts, if a container outlived rm
  remove_cgroup_tree "$CGPARENT"
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- helpers for cases ---------------------------------------------------------------------

# status_field NAME: NAME's value in /proc/self/status as printed by the last run.
status_field() { sed -n "s/^$1:[[:space:]]*//p" <<<"$OUT"; }

# Inside the container: print a cgroup v1 controller file, or else its cgroup v2 twin.
cg_in() { echo "f=/sys/fs/cgroup/$1/$2; [ -e \$f ] || f=/sys/fs/cgroup/$3; cat \$f"; }

# ctr_pid NAME: the host pid of container NAME's init.
ctr_pid() {
  local pid
  pid=$(pm inspect --format '{{.State.Pid}}' "$1")
  ((pid > 0)) || fail "container $1 has no pid"
  echo "$pid"
}

# start_detached NAME CMD...: a long-running container for the cases that act on one.
start_detached() {
  local name=$1
  shift
  run prun -d --name "$name" "$IMAGE" "$@"
  expect_rc 0 "podman run -d $name"
}

remove() { pm rm -f -t 0 "$@" >/dev/null 2>&1 || true; }

# --- the cases ----------------------------------------------------------------------------

case_run_rm_exit_0() {
  run prun --rm --cidfile "$WORK/rm.cid" "$IMAGE" sh -c 'echo hello'
  expect_rc 0 "run --rm echo"
  expect_out hello "run --rm echo"
  local id
  id=$(<"$WORK/rm.cid")
  [[ -z "$(pm ps -aq --filter "id=$id")" ]] || fail "podman still lists container $id after --rm"
  [[ ! -e "$BRICK_STATE/$id" ]] || fail "brick state $BRICK_STATE/$id left after run --rm"
}

case_run_exit_code() {
  run prun --rm "$IMAGE" sh -c 'exit 3'
  expect_rc 3 "exit 3 in the container"
}

case_run_missing_executable() {
  # podman maps the runtime's "executable file not found"/"no such file or directory" to
  # 127 and "permission denied" to 126, so brick's error wording is part of the contract.
  run prun --rm "$IMAGE" /no/such/program
  expect_rc 127 "a missing executable"
  run prun --rm "$IMAGE" /etc/passwd
  expect_rc 126 "a file that is not executable"
  # The same through the JSON log podman reads (runtime_supports_json): one error line.
  run prun --name jsonlog "$IMAGE" /no/such/program
  expect_rc 127 "a missing executable, container kept"
  local id log
  id=$(pm inspect --format '{{.Id}}' jsonlog)
  log=$(find "$WORK" -path "*$id*/oci-log" | head -n 1)
  [[ -n "$log" ]] || fail "no oci-log for container $id under $WORK"
  # podman parses the whole file as one JSON object: exactly the error line.
  [[ $(wc -l <"$log") -eq 1 ]] && grep -q '^{"level":"error","msg":".*no such file or directory' "$log" ||
    fail "podman's oci-log is not exactly brick's JSON error line: $(head -c 400 "$log")"
  remove jsonlog
}

case_run_tty() {
  run prun --rm -t "$IMAGE" sh -c 'test -t 0 && test -t 1 && echo tty; tty' </dev/null
  expect_rc 0 "run -t"
  [[ "$OUT" == tty$'\n'/dev/pts/* ]] || fail "run -t: stdin/stdout are not a terminal: '$OUT'"
  run prun --rm "$IMAGE" sh -c 'test -t 0 || test -t 1 || echo notty' </dev/null
  expect_rc 0 "run without -t"
  expect_out notty "run without -t must not get a terminal"
}

case_run_interactive_stdin() {
  run prun --rm -i "$IMAGE" sh -c 'read -r x; echo "got:$x"; wc -l' <<<$'hello\nsecond\nthird'
  expect_rc 0 "run -i"
  expect_out $'got:hello\n2' "run -i with stdin piped in"
}

case_exec() {
  start_detached exec1 sleep 300
  run pm exec exec1 sh -c 'echo exec-ok; cat /proc/1/cmdline | tr "\0" " "; exit 5'
  expect_rc 5 "podman exec ... exit 5"
  expect_out $'exec-ok\nsleep 300 ' "podman exec sees the container's pid 1"
  run pm exec -i exec1 cat <<<"piped"
  expect_rc 0 "podman exec -i"
  expect_out piped "podman exec -i with stdin piped in"
  run pm exec exec1 ls /proc/self/fd
  expect_rc 0 "podman exec ls /proc/self/fd"
  expect_out $'0\n1\n2\n3' "fds open in an exec'd process"
  remove exec1
}

case_exec_tty() {
  start_detached exectty1 sleep 300
  run pm exec -t exectty1 sh -c 'test -t 0 && test -t 1 && echo tty' </dev/null
  expect_rc 0 "podman exec -t"
  expect_out tty "podman exec -t: stdin/stdout are a terminal"
  remove exectty1
}

case_stop() {
  # The trap turns SIGTERM into exit 42: 137 would mean podman had to fall back to SIGKILL.
  start_detached stop1 sh -c 'trap "exit 42" TERM; sleep 300 & wait'
  wait_for_handler "$(ctr_pid stop1)" 15
  run pm stop -t 10 stop1
  expect_rc 0 "podman stop"
  run pm inspect --format '{{.State.Status}} {{.State.ExitCode}}' stop1
  expect_out "exited 42" "state after podman stop (42: SIGTERM reached the container)"
  remove stop1
}

case_kill() {
  start_detached kill1 sh -c 'trap "exit 7" USR1; sleep 300 & wait'
  wait_for_handler "$(ctr_pid kill1)" 10
  run pm kill -s USR1 kill1
  expect_rc 0 "podman kill -s USR1"
  run pm wait kill1
  expect_out 7 "exit status after SIGUSR1 (the container's trap exits 7)"
  start_detached kill2 sleep 300
  run pm kill kill2
  expect_rc 0 "podman kill (SIGKILL)"
  run pm wait kill2
  expect_out 137 "exit status after SIGKILL"
  remove kill1 kill2
}

case_pause_unpause() {
  start_detached pause1 sleep 300
  local file frozen=FROZEN thawed=THAWED
  file=$(cgroup_file_of "$(ctr_pid pause1)" freezer freezer.state cgroup.freeze)
  if [[ "$file" == */cgroup.freeze ]]; then
    frozen=1 thawed=0
  fi
  run pm pause pause1
  expect_rc 0 "podman pause"
  run pm inspect --format '{{.State.Status}}' pause1
  expect_out paused "podman's status after pause"
  [[ $(<"$file") == "$frozen" ]] || fail "$file is '$(<"$file")' after pause, expected $frozen"
  run pm unpause pause1
  expect_rc 0 "podman unpause"
  run pm inspect --format '{{.State.Status}}' pause1
  expect_out running "podman's status after unpause"
  [[ $(<"$file") == "$thawed" ]] || fail "$file is '$(<"$file")' after unpause, expected $thawed"
  remove pause1
}

case_update() {
  # podman 4.3 has `podman update` (cgroup limits; it calls `runtime update --resources`).
  start_detached update1 sleep 300
  run pm update --memory 96m update1
  expect_rc 0 "podman update --memory 96m"
  local value
  value=$(<"$(cgroup_file_of "$(ctr_pid update1)" memory memory.limit_in_bytes memory.max)")
  [[ "$value" == 100663296 ]] || fail "memory limit after update is $value, expected 100663296"
  remove update1
}

case_read_only() {
  run prun --rm --read-only "$IMAGE" sh -c \
    'touch /x 2>&1; touch /tmp/y && echo tmp-writable; grep -q "^[^ ]* / [^ ]* ro[,\ ]" /proc/mounts && echo root-ro'
  expect_rc 0 "run --read-only"
  expect_out $'touch: /x: Read-only file system\ntmp-writable\nroot-ro' \
    "--read-only: / read-only, podman's tmpfs on /tmp writable"
}

case_cap_drop_all() {
  run prun --rm "$IMAGE" cat /proc/self/status
  expect_rc 0 "default run"
  [[ $(status_field CapEff) != 0000000000000000 ]] ||
    fail "control run without --cap-drop already has no capabilities"
  run prun --rm --cap-drop ALL "$IMAGE" cat /proc/self/status
  expect_rc 0 "run --cap-drop ALL"
  local f
  for f in CapInh CapPrm CapEff CapBnd CapAmb; do
    [[ $(status_field $f) == 0000000000000000 ]] ||
      fail "--cap-drop ALL: $f is $(status_field $f), expected 0000000000000000"
  done
}

case_user() {
  run prun --rm --user 1234:1234 "$IMAGE" sh -c 'id -u; id -g; grep -E "^(Uid|Gid):" /proc/self/status'
  expect_rc 0 "run --user 1234:1234"
  expect_out $'1234\n1234\nUid:\t1234\t1234\t1234\t1234\nGid:\t1234\t1234\t1234\t1234' \
    "--user 1234:1234: real, effective, saved and fs ids"
}

case_uidmap() {
  run prun -d --name uidmap1 --uidmap 0:200000:65536 --gidmap 0:200000:65536 "$IMAGE" sleep 300
  expect_rc 0 "run -d --uidmap 0:200000:65536"
  local pid
  pid=$(ctr_pid uidmap1)
  [[ $(awk '{ print $1, $2, $3 }' "/proc/$pid/uid_map") == "0 200000 65536" ]] ||
    fail "uid_map of the container is '$(<"/proc/$pid/uid_map")'"
  [[ $(awk '{ print $1, $2, $3 }' "/proc/$pid/gid_map") == "0 200000 65536" ]] ||
    fail "gid_map of the container is '$(<"/proc/$pid/gid_map")'"
  [[ $(awk '/^Uid:/ { print $2 }' "/proc/$pid/status") == 200000 ]] ||
    fail "the container's root is host uid $(awk '/^Uid:/ { print $2 }' "/proc/$pid/status"), expected 200000"
  remove uidmap1
  run prun --rm --uidmap 0:200000:65536 --gidmap 0:200000:65536 "$IMAGE" sh -c 'id -u; ls -n /bin/busybox | awk "{ print \$3 }"'
  expect_rc 0 "run --rm --uidmap"
  expect_out $'0\n0' "inside the mapping: root, and the image's files owned by root"
}

case_no_new_privileges() {
  run prun --rm "$IMAGE" grep NoNewPrivs /proc/self/status
  expect_rc 0 "default run"
  [[ "$OUT" == $'NoNewPrivs:\t0' ]] || fail "control run without the option: '$OUT'"
  run prun --rm --security-opt no-new-privileges "$IMAGE" grep NoNewPrivs /proc/self/status
  expect_rc 0 "run --security-opt no-new-privileges"
  expect_out $'NoNewPrivs:\t1' "--security-opt no-new-privileges"
}

case_seccomp_default() {
  # podman's default profile refuses sysfs(2) with EPERM; without a filter it succeeds
  # (brick-inspect is in the embedded rootfs).
  run prun --rm "$IMAGE" sh -c 'grep "^Seccomp:" /proc/self/status; brick-inspect syscall sysfs'
  expect_rc 0 "default run"
  expect_out $'Seccomp:\t2\nerrno EPERM' "podman's default seccomp profile: filter mode, sysfs refused"
}

case_seccomp_unconfined() {
  run prun --rm --security-opt seccomp=unconfined "$IMAGE" sh -c \
    'grep "^Seccomp:" /proc/self/status; brick-inspect syscall sysfs'
  expect_rc 0 "run --security-opt seccomp=unconfined"
  expect_out $'Seccomp:\t0\nok' "seccomp=unconfined: no filter, sysfs allowed"
}

case_pids_limit() {
  run prun --rm --pids-limit 10 "$IMAGE" sh -c \
    "$(cg_in pids pids.max pids.max); for i in \$(seq 20); do sleep 30 & done 2>&1 | grep -m1 -o \"can't fork\""
  expect_rc 0 "run --pids-limit 10"
  expect_out $'10\ncan'"'"'t fork' "--pids-limit 10: pids.max inside, and the 11th task refused"
}

case_memory() {
  run prun --rm --memory 64m "$IMAGE" sh -c "$(cg_in memory memory.limit_in_bytes memory.max)"
  expect_rc 0 "run --memory 64m"
  expect_out 67108864 "--memory 64m: the limit seen inside"
}

case_no_leaked_fds() {
  # fd 9 open in podman's caller must not reach the container either. ls's own directory
  # fd is 3.
  run prun --rm "$IMAGE" ls /proc/self/fd 9</dev/null
  expect_rc 0 "run ls /proc/self/fd"
  expect_out $'0\n1\n2\n3' "fds open in the container"
  run prun --rm -t "$IMAGE" ls -1 /proc/self/fd </dev/null 9</dev/null
  expect_rc 0 "run -t ls /proc/self/fd"
  expect_out $'0\n1\n2\n3' "fds open in the container with -t"
}

case_concurrent_runs() {
  # Engines start containers side by side; every one must succeed.
  local i pids=() bad=0
  for i in 1 2 3 4; do
    prun --rm "$IMAGE" true >"$WORK/conc.$i" 2>&1 &
    pids+=($!)
  done
  for i in "${!pids[@]}"; do
    if ! wait "${pids[$i]}"; then
      bad=1
      echo "concurrent run $((i + 1)): $(<"$WORK/conc.$((i + 1))")" >&2
    fi
  done
  ((bad == 0)) || fail "some of 4 concurrent podman runs failed (see above)"
}

case_nothing_left_behind() {
  # Runs last: every container is removed, then nothing of brick's may remain.
  pm rm -af -t 0 >/dev/null 2>&1 || true
  local id d left=()
  for id in $(created_ids); do
    [[ -e "$BRICK_STATE/$id" ]] && left+=("state $BRICK_STATE/$id")
    for d in /sys/fs/cgroup/*/"${CGPARENT#/}/libpod-$id" /sys/fs/cgroup/"${CGPARENT#/}/libpod-$id"; do
      [[ -d "$d" ]] && left+=("cgroup $d")
    done
  done
  ((${#left[@]} == 0)) || fail "left behind after podman rm: ${left[*]}"
  [[ -n "$(created_ids)" ]] || fail "no container was created (the event log is empty)"
}

# shellcheck disable=SC2034  # read by run_cases in lib.sh
CASES=(
  run_rm_exit_0 run_exit_code run_missing_executable run_tty run_interactive_stdin
  exec exec_tty stop kill pause_unpause update
  read_only cap_drop_all user uidmap no_new_privileges
  seccomp_default seccomp_unconfined pids_limit memory no_leaked_fds
  concurrent_runs nothing_left_behind
)

# --- main -------------------------------------------------------------------------------

tar -C "$ROOTFS" --exclude=./CMakeFiles --exclude=./CTestTestfile.cmake \
  --exclude=./cmake_install.cmake -cf "$WORK/rootfs.tar" .
if ! pm import "$WORK/rootfs.tar" "$IMAGE" >"$WORK/import.log" 2>&1; then
  echo "FAIL setup: podman import of $ROOTFS: $(<"$WORK/import.log")"
  exit 1
fi
echo "podman $(podman --version | awk '{ print $3 }'), runtime $BRICK, image $IMAGE"

# After a failed case: remove what it did not get to.
case_cleanup() { pm rm -af -t 0; }

run_cases "$ONLY"

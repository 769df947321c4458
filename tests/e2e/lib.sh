# Shared helpers of the engine end-to-end suites (podman_e2e.sh, containerd_e2e.sh).
#
#   source "$(dirname "$0")/lib.sh"
#   case_hello() { run echo hi; expect_rc 0 "echo"; expect_out hi "echo"; }
#   CASES=(hello); run_cases "$ONLY"    # prints PASS/FAIL per case; returns 1 if any failed
#
# Each case is a function case_NAME run in a subshell with `set -e`; it ends early with
# `fail REASON`. The suite sets WORK (its temp dir) before calling anything here, and may
# define case_cleanup, which runs after a case that failed, to remove what it left.

# fail REASON: ends the case; the reason is printed on one line.
fail() {
  local reason="$*"
  echo "${reason//$'\n'/\\n}" >&2
  exit 1
}

# run CMD...: runs CMD with the caller's stdin; sets OUT (stdout, without carriage
# returns), ERR (stderr) and RC. Never fails itself.
run() {
  set +e
  OUT=$("$@" 2>"$WORK/stderr")
  RC=$?
  set -e
  ERR=$(<"$WORK/stderr")
  OUT=${OUT//$'\r'/}
}

# expect_rc N WHAT: the last run exited N.
expect_rc() {
  ((RC == $1)) ||
    fail "$2: exit status $RC, expected $1; stdout: ${OUT:-<none>}; stderr: ${ERR:-<none>}"
}

# expect_out TEXT WHAT: the last run's stdout is exactly TEXT.
expect_out() {
  [[ "$OUT" == "$1" ]] || fail "$2: stdout '$OUT', expected '$1'; stderr: ${ERR:-<none>}"
}

# wait_for_handler PID SIGNUM: waits until process PID has a handler for SIGNUM (a shell
# has run its `trap`), so that a signal sent next cannot find the default disposition,
# which a container's init ignores. Gives up after 20 s.
wait_for_handler() {
  local mask i
  for ((i = 0; i < 400; i++)); do
    mask=$(awk '/^SigCgt:/ { print $2 }' "/proc/$1/status" 2>/dev/null || true)
    if [[ -n "$mask" ]] && (((16#$mask >> ($2 - 1)) & 1)); then
      return 0
    fi
    sleep 0.05
  done
  fail "process $1 never installed its handler for signal $2"
}

# wait_for_children PID N: waits until process PID has at least N children. Gives up
# after 20 s.
wait_for_children() {
  local i
  for ((i = 0; i < 400; i++)); do
    local kids
    kids=$(cat /proc/"$1"/task/*/children 2>/dev/null | wc -w)
    ((kids >= $2)) && return 0
    sleep 0.05
  done
  fail "process $1 never had $2 children"
}

# cgroup_file_of PID CONTROLLER FILE_V1 FILE_V2: the path of a cgroup control file of
# PID's cgroup, on a v1 controller or else on the unified hierarchy.
cgroup_file_of() {
  local rel
  rel=$(awk -F: -v c="$2" '$2 == c { print $3 }' "/proc/$1/cgroup")
  if [[ -n "$rel" && -e "/sys/fs/cgroup/$2$rel/$3" ]]; then
    echo "/sys/fs/cgroup/$2$rel/$3"
  else
    echo "/sys/fs/cgroup$(awk -F: '$1 == "0" { print $3 }' "/proc/$1/cgroup")/$4"
  fi
}

# unmount_under DIR: unmounts every mount at or below DIR, deepest first.
unmount_under() {
  awk -v d="$1/" 'index($5 "/", d) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
    while read -r m; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
}

# remove_cgroup_tree REL: removes the cgroup REL (e.g. /suite-123) and everything below
# it, in every hierarchy. Only empty cgroups can go; busy ones stay and are reported.
remove_cgroup_tree() {
  local d
  for d in /sys/fs/cgroup/*/"${1#/}" /sys/fs/cgroup/"${1#/}"; do
    [[ -d "$d" ]] || continue
    find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true
    [[ ! -d "$d" ]] || echo "cleanup: cgroup $d is still in use" >&2
  done
}

# run_cases [REGEX]: runs every case in CASES (those matching REGEX if given), prints
# "PASS name (time)" or "FAIL name (time): reason" with the case's other output indented,
# then a summary. Returns 1 if any case failed.
run_cases() {
  local only=${1:-} c rc t0 took passed=0 failed=() start
  start=$(date +%s%N)
  for c in "${CASES[@]}"; do
    [[ -z "$only" || "$c" =~ $only ]] || continue
    t0=$(date +%s%N)
    set +e
    (set -e; "case_$c") >"$WORK/case.log" 2>&1
    rc=$?
    set -e
    took=$(awk -v ns=$(($(date +%s%N) - t0)) 'BEGIN { printf "%.1f s", ns / 1e9 }')
    if ((rc == 0)); then
      echo "PASS $c ($took)"
      passed=$((passed + 1))
    else
      echo "FAIL $c ($took): $(tail -n 1 "$WORK/case.log")"
      head -n -1 "$WORK/case.log" | sed 's/^/    /'
      failed+=("$c")
      if declare -F case_cleanup >/dev/null; then
        case_cleanup >/dev/null 2>&1 || true
      fi
    fi
  done
  took=$(awk -v ns=$(($(date +%s%N) - start)) 'BEGIN { printf "%.0f s", ns / 1e9 }')
  echo "$(basename "$0" .sh): $passed passed, ${#failed[@]} failed in $took${failed:+: ${failed[*]}}"
  ((${#failed[@]} == 0))
}

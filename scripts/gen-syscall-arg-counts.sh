#!/usr/bin/env bash
# Prints the rows of kX86_64ArgCounts (src/brick/seccomp/syscall_arg_counts.cc) from the running
# kernel's syscall tracepoints: each events/syscalls/sys_enter_NAME/format lists one field per
# syscall argument after __syscall_nr. Needs root and CONFIG_FTRACE_SYSCALLS. tracefs is
# mounted in a private mount namespace, so the host's mounts are never touched.
#
#   sudo scripts/gen-syscall-arg-counts.sh > /tmp/rows && edit the table by hand
#
# Tracepoints are named after the kernel's SYSCALL_DEFINE, which differs from the syscall
# table's name for a few calls; those are renamed below.
set -euo pipefail
[[ "$(uname -m)" == x86_64 ]] || { echo "run this on x86_64" >&2; exit 1; }
unshare -m sh -c '
  set -e
  mount --make-rprivate /
  dir=$(mktemp -d)
  mount -t tracefs none "$dir"
  for f in "$dir"/events/syscalls/sys_enter_*/format; do
    name=${f%/format}
    name=${name##*/sys_enter_}
    # Fields from __syscall_nr to the end of the field list, minus __syscall_nr itself.
    n=$(sed -n "/__syscall_nr/,\$p" "$f" | grep -c "^[[:space:]]*field:")
    echo "$name $((n - 1))"
  done
  umount "$dir"
  rmdir "$dir"
' | sed -e 's/^newstat /stat /' -e 's/^newfstat /fstat /' -e 's/^newlstat /lstat /' \
        -e 's/^newuname /uname /' -e 's/^sendfile64 /sendfile /' -e 's/^umount /umount2 /' \
  | LC_ALL=C sort | awk '{ printf "    {\"%s\", %d},\n", $1, $2 }'

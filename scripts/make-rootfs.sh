#!/usr/bin/env bash
# Assembles brick's embedded default rootfs from a static busybox and brick-inspect,
# without network access.
#
#   scripts/make-rootfs.sh OUT_DIR BUSYBOX INSPECT
#   scripts/make-rootfs.sh build/rootfs /bin/busybox build/brick-inspect
#
# The tree is built next to OUT_DIR and moved into place, so OUT_DIR is never half-built.
set -euo pipefail

if (($# != 3)); then
  echo "usage: make-rootfs.sh OUT_DIR BUSYBOX INSPECT" >&2
  exit 2
fi
out=$1
busybox=$2
inspect=$3

for bin in "$busybox" "$inspect"; do
  if [[ ! -x "$bin" ]]; then
    echo "make-rootfs: $bin is not an executable file" >&2
    exit 1
  fi
  # A dynamically linked binary would not start in a rootfs without its libraries; the ELF
  # interpreter path is only present in dynamic executables.
  if LC_ALL=C grep -aq -e '/lib64/ld-linux' -e '/lib/ld-linux' "$bin"; then
    echo "make-rootfs: $bin is dynamically linked; use a static build" \
      "(Debian: apt-get install busybox-static)" >&2
    exit 1
  fi
done

out=$(realpath -m "$out")
staging="$out.tmp.$$"
trap 'rm -rf "$staging"' EXIT
rm -rf "$staging"
mkdir -p "$staging"
cd "$staging"

mkdir -p bin usr/bin etc proc sys dev tmp run home/brick root
chmod 0755 bin usr usr/bin etc dev run home
chmod 0555 proc sys
chmod 1777 tmp
chmod 0700 root
chown 1000:1000 home/brick
chmod 0755 home/brick

install -m 0755 "$busybox" bin/busybox
install -m 0755 "$inspect" usr/bin/brick-inspect

applets=$("$busybox" --list)
if [[ -z "$applets" ]]; then
  echo "make-rootfs: $busybox --list printed no applets" >&2
  exit 1
fi
while IFS= read -r applet; do
  [[ -n "$applet" && "$applet" != busybox && "$applet" != */* ]] || continue
  ln -s busybox "bin/$applet"
done <<<"$applets"

cat >etc/passwd <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
brick:x:1000:1000:brick:/home/brick:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
cat >etc/group <<'GROUP'
root:x:0:
tty:x:5:
brick:x:1000:
nogroup:x:65534:
GROUP
echo brick >etc/hostname
chmod 0644 etc/passwd etc/group etc/hostname

cd /
rm -rf "$out"
mv "$staging" "$out"
trap - EXIT

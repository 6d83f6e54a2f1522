#!/usr/bin/env bash
# Cross-builds libmlnetmlp and its native tests for ARM64 (portable kernels only) and runs the tests
# under qemu-user. Needs: apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user
set -euo pipefail
cd "$(dirname "$0")/.."
build=build/native-arm64
mkdir -p "$build"
cat > "$build/toolchain.cmake" <<'TC'
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
TC
cmake -S native -B "$build" -DCMAKE_TOOLCHAIN_FILE="$PWD/$build/toolchain.cmake" -DMLNETMLP_BUILD_TESTS=ON -DMLNETMLP_WERROR=ON
cmake --build "$build" --parallel
for t in test_kernels test_network test_gemm; do
  QEMU_LD_PREFIX=/usr/aarch64-linux-gnu LD_LIBRARY_PATH="$PWD/$build" qemu-aarch64 "$build/tests/$t"
done

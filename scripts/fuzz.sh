#!/usr/bin/env bash
# Fuzzes the C ABI's argument checking with libFuzzer + AddressSanitizer + UBSan for a bounded time.
# usage: scripts/fuzz.sh [seconds]   (needs clang with libFuzzer: apt-get install clang libclang-rt-14-dev)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
CC=clang cmake -S native -B build/fuzz -DMLNETMLP_BUILD_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/fuzz --parallel --target fuzz_api
mkdir -p build/fuzz/corpus
ASAN_OPTIONS=detect_leaks=1 build/fuzz/fuzz/fuzz_api -max_total_time="$seconds" -print_final_stats=1 build/fuzz/corpus

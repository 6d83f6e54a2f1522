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
  rc=0
  LD_LIBRARY_PATH="$PWD/$build" qemu-aarch64 "$t" || rc=$?
  [ $rc -eq 0 ] || [ $rc -eq 77 ] || exit $rc # 77: the test reports itself skipped (test_bf16: no AVX512_BF16 here)
done
echo "arm64 native tests passed (kernel set: generic, NEON by the compiler)"

# .NET itself runs under qemu-aarch64 (a self-contained linux-arm64 publish): the package consumer trains the three
# trainers, saves, reloads in a second process; then x64 .NET loads the ARM64-written models. Emulation makes it ~50x
# slower than native, hence 12 epochs. Needs the feed of scripts/check-package.sh; skipped with MLP_ARM64_DOTNET=0.
if [ "${MLP_ARM64_DOTNET:-1}" = 1 ]; then
  dir=$PWD/build/package-check
  package=$(ls "$dir"/feed/MlNetMlp.*.nupkg 2>/dev/null | head -1)
  [ -n "$package" ] || { echo "no package in $dir/feed: run scripts/check-package.sh first"; exit 1; }
  version=$(basename "$package" .nupkg | sed 's/^MlNetMlp\.//')
  echo "== the package consumer, self-contained linux-arm64, under qemu-aarch64"
  (export NUGET_PACKAGES=$dir/packages && cd "$dir/consumer" &&
     dotnet publish -c Release -r linux-arm64 --self-contained -p:MlNetMlpVersion="$version" -o "$dir/publish-linux-arm64" -nologo -v quiet)
  file "$dir/publish-linux-arm64/libmlnetmlp.so" | grep -q "ARM aarch64" || { echo "the linux-arm64 publish lacks an ARM64 libmlnetmlp.so"; exit 1; }
  models=$dir/models-linux-arm64
  rm -rf "$models"
  export DOTNET_EnableWriteXorExecute=0 # W^X double mapping is slow under qemu-user
  qemu-aarch64 "$dir/publish-linux-arm64/Consumer" train "$models" 12
  qemu-aarch64 "$dir/publish-linux-arm64/Consumer" score "$models"
  echo "  the ARM64-written model.zip files scored by x64 .NET (AVX2 kernels):"
  linux=$dir/consumer/bin/Release/net10.0/Consumer.dll
  rm -rf "$dir/models-arm64-on-x64" && cp -r "$models" "$dir/models-arm64-on-x64"
  dotnet "$linux" score "$dir/models-arm64-on-x64" >/dev/null 2>&1 || true # (writes the x64 scores; not bit-identical)
  dotnet "$linux" compare "$models/score-scores.txt" "$dir/models-arm64-on-x64/score-scores.txt" 1e-5
  echo "arm64 .NET check passed"
fi

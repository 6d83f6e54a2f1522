#!/usr/bin/env bash
# Packs MlNetMlp and checks the package from a consumer's side:
#  1. the layout: the managed assembly and docs, runtimes/<rid>/native/<library> for every RID in MLP_EXPECT_RIDS
#     (default: linux-x64 win-x64 linux-arm64; the cross-built ones come from scripts/build-native-rids.sh), the
#     native sources and the buildTransitive target;
#  2. a fresh consumer (scripts/package-consumer) restored from a local feed trains the three trainers and saves
#     model.zip files in one process, loads and scores them in another (bit-identical scores);
#  3. the build-from-source path of RIDs without a prebuilt library (macOS): a package packed without the
#     linux-x64 library, restored into a fresh consumer, must build libmlnetmlp with cmake during the consumer's
#     build and run the same train/score round.
# Leaves build/package-check/feed/*.nupkg and the published consumer for check-windows.sh / check-arm64.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
dir=$root/build/package-check
expect=${MLP_EXPECT_RIDS:-linux-x64 win-x64 linux-arm64}
rm -rf "$dir"
mkdir -p "$dir"

native_file() { case $1 in win-*) echo libmlnetmlp.dll ;; osx-*) echo libmlnetmlp.dylib ;; *) echo libmlnetmlp.so ;; esac; }

# consumer <name> <feed>: a copy of scripts/package-consumer restored from <feed> with its own package cache.
consumer() {
  local name=$1 feed=$2
  mkdir -p "$dir/$name"
  cp scripts/package-consumer/Program.cs scripts/package-consumer/Consumer.csproj "$dir/$name/"
  cat > "$dir/$name/nuget.config" <<XML
<configuration>
  <packageSources>
    <add key="local" value="$feed" />
  </packageSources>
</configuration>
XML
}

echo "== pack (prebuilt RIDs from build/prebuilt: $(ls build/prebuilt 2>/dev/null | tr '\n' ' '))"
dotnet pack src/MlNetMlp -c Release -o "$dir/feed" -v quiet -nologo
package=$(ls "$dir/feed"/MlNetMlp.*.nupkg)
version=$(basename "$package" .nupkg | sed 's/^MlNetMlp\.//')
listing=$(unzip -Z1 "$package")
missing=()
for entry in lib/net10.0/MlNetMlp.dll lib/net10.0/MlNetMlp.xml README.md LICENSE buildTransitive/MlNetMlp.targets \
             native-src/native/CMakeLists.txt native-src/native/include/mlnetmlp.h native-src/native/src/api.c \
             native-src/cmake/MlpIsa.cmake; do
  grep -qx "$entry" <<<"$listing" || missing+=("$entry")
done
for rid in $expect; do
  entry=runtimes/$rid/native/$(native_file "$rid")
  grep -qx "$entry" <<<"$listing" || missing+=("$entry")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "package $(basename "$package") lacks: ${missing[*]}"; echo "it holds:"; echo "$listing"; exit 1
fi
echo "package layout: $(grep -c '^runtimes/' <<<"$listing") native libraries ($(grep '^runtimes/' <<<"$listing" | tr '\n' ' ')), sources, buildTransitive"

echo "== consumer: restore, train and save, load and score in a second process"
consumer consumer "$dir/feed"
(
  export NUGET_PACKAGES=$dir/packages   # a fresh cache: the package just built, nothing stale
  cd "$dir/consumer"
  dotnet build -c Release -v quiet -nologo -p:MlNetMlpVersion="$version"
  test -f bin/Release/net10.0/runtimes/linux-x64/native/libmlnetmlp.so || { echo "the consumer's output lacks runtimes/linux-x64/native/libmlnetmlp.so"; exit 1; }
  dotnet bin/Release/net10.0/Consumer.dll train "$dir/models-linux-x64"
  dotnet bin/Release/net10.0/Consumer.dll score "$dir/models-linux-x64"
  # Without its native library the app must fail with one clear message naming the RID and the files there.
  rm -rf "$dir/no-native" && cp -r bin/Release/net10.0 "$dir/no-native"
  rm "$dir/no-native/runtimes/linux-x64/native/libmlnetmlp.so"
  if bash -c 'dotnet "$0" train "$1"; exit $?' "$dir/no-native/Consumer.dll" "$dir/models-no-native" > "$dir/no-native.log" 2>&1; then
    echo "the consumer ran without its native library"; exit 1
  fi
  grep -q "InvalidOperationException: The MlNetMlp native library could not be loaded for linux-x64: looked for libmlnetmlp.so" "$dir/no-native.log" \
    && grep -q "found runtimes/linux-arm64/native/libmlnetmlp.so" "$dir/no-native.log" \
    || { echo "unexpected failure without the native library:"; head -5 "$dir/no-native.log"; exit 1; }
  echo "without its native library: $(grep -m1 -o 'InvalidOperationException: [^(]*' "$dir/no-native.log")"
)

echo "== build from source: a package without the linux-x64 library"
dotnet pack src/MlNetMlp -c Release -o "$dir/feed-source" -v quiet -nologo -p:MlpPackHostNative=false
unzip -Z1 "$dir/feed-source/MlNetMlp.$version.nupkg" | grep -q '^runtimes/linux-x64/' && { echo "MlpPackHostNative=false still packed linux-x64"; exit 1; }
consumer consumer-source "$dir/feed-source"
(
  export NUGET_PACKAGES=$dir/packages-source
  cd "$dir/consumer-source"
  dotnet build -c Release -nologo -v minimal -p:MlNetMlpVersion="$version" | tee build.log | grep -E "MlNetMlp:|error" || true
  grep -q "MlNetMlp: building the native library for linux-x64 from source" build.log || { echo "the consumer did not build the native library"; cat build.log; exit 1; }
  test -f bin/Release/net10.0/libmlnetmlp.so || { echo "the library built from source is not in the output folder"; exit 1; }
  dotnet bin/Release/net10.0/Consumer.dll train "$dir/models-source"
  dotnet bin/Release/net10.0/Consumer.dll score "$dir/models-source"
  dotnet bin/Release/net10.0/Consumer.dll compare "$dir/models-linux-x64/score-scores.txt" "$dir/models-source/score-scores.txt"
)
echo "== build from source without cmake: one clear build error"
consumer consumer-nocmake "$dir/feed-source"
mkdir -p "$dir/no-cmake-bin"
ln -sf "$(readlink -f "$(command -v dotnet)")" "$dir/no-cmake-bin/dotnet"
ln -sf "$(command -v sh)" "$dir/no-cmake-bin/sh"
(
  export NUGET_PACKAGES=$dir/packages-source
  cd "$dir/consumer-nocmake"
  if PATH=$dir/no-cmake-bin dotnet build -c Release -nologo -v minimal -p:MlNetMlpVersion="$version" > build.log 2>&1; then
    echo "the consumer built without cmake"; exit 1
  fi
  grep -q "error : MlNetMlp has no prebuilt native library for linux-x64 and builds it from the sources in its package, which needs cmake" build.log \
    || { echo "unexpected build failure without cmake:"; grep -m5 error build.log; exit 1; }
  echo "without cmake: $(grep -m1 -o 'error : MlNetMlp has no prebuilt[^.]*' build.log)"
)
echo "package check passed: $(basename "$package")"

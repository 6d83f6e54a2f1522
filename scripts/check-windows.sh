#!/usr/bin/env bash
# win-x64 under Wine:
#  1. cross-builds libmlnetmlp.dll and the native tests with mingw-w64 (scripts/build-native-rids.sh, -Werror) and
#     runs every test under Wine with each kernel set (best, avx2, generic), checks that the AVX-512 and AVX2 sets
#     give the same bits there too, and compares the training dump with the Linux build's (bit-identical expected);
#  2. publishes the package consumer (scripts/package-consumer, from the package check's local feed) self-contained
#     for win-x64, trains the three trainers and saves model.zip files under Wine, reloads and scores them in a
#     second Wine process, and compares the scores with the same app's on Linux (labels equal, scores within 1e-5;
#     says whether bit-identical); then the Linux app loads the Windows-written models and scores them the same.
# Needs: apt-get install gcc-mingw-w64-x86-64 wine wine64; a packed feed from scripts/check-package.sh (run first).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export WINEDEBUG=-all
export WINEPREFIX=${WINEPREFIX:-$root/build/wine-prefix}
wine=$(command -v wine64 || command -v wine)
winpath() { echo "Z:${1//\//\\}"; }
wineserver=$(command -v wineserver || echo /usr/lib/wine/wineserver64)
mkdir -p "$WINEPREFIX"
# Create the prefix and wait until its set-up has finished, then keep one wineserver for the whole check: a server
# that restarts between programs (after the prefix update) drops their connection ("wine client error").
"$wine" wineboot --init >/dev/null 2>&1 || true
"$wineserver" -w
"$wineserver" -p
trap '"$wineserver" -k 2>/dev/null || true' EXIT

echo "== native tests under Wine"
scripts/build-native-rids.sh win-x64 | grep -v '^\['
tests=$root/build/native-win-x64/tests
cp build/native-win-x64/libmlnetmlp.dll "$tests/"
for t in "$tests"/test_*.exe; do
  name=$(basename "$t" .exe)
  [ "$name" = test_isa_dump ] && continue
  for isa in best avx2 generic; do
    if [ $isa = best ]; then unset MLNETMLP_ISA; else export MLNETMLP_ISA=$isa; fi
    rc=0
    (cd "$tests" && "$wine" "$name.exe" > "$name.$isa.log" 2>&1) || rc=$?
    if [ $rc -ne 0 ] && [ $rc -ne 77 ]; then # 77: the test reports itself skipped (e.g. no AVX512_BF16 in this set)
      # a dropped wineserver connection is Wine's failure, not the test's: run it once more, then judge
      rc=0
      grep -q "wine client error" "$tests/$name.$isa.log" && { (cd "$tests" && "$wine" "$name.exe" > "$name.$isa.log" 2>&1) || rc=$?; } \
        || rc=1
      [ $rc -eq 0 ] || [ $rc -eq 77 ] || { echo "FAILED: $name ($isa) under Wine"; cat "$tests/$name.$isa.log"; exit 1; }
    fi
    echo "  $name ($isa): $(tail -1 "$tests/$name.$isa.log" | tr -d '\r')"
  done
done
unset MLNETMLP_ISA
(cd "$tests" && "$wine" test_isa_dump.exe isa_best.bin >/dev/null && MLNETMLP_ISA=avx2 "$wine" test_isa_dump.exe isa_avx2.bin >/dev/null)
cmp -s "$tests/isa_best.bin" "$tests/isa_avx2.bin" || { echo "the AVX-512 and AVX2 kernel sets differ under Wine"; exit 1; }
linux_dump=$root/build/native/tests/test_isa_dump
if [ -x "$linux_dump" ]; then
  MLNETMLP_ISA=avx2 "$linux_dump" "$tests/isa_linux_avx2.bin" >/dev/null
  if cmp -s "$tests/isa_avx2.bin" "$tests/isa_linux_avx2.bin"; then
    echo "  GEMMs and training steps: Windows and Linux builds bit-identical ($(stat -c %s "$tests/isa_avx2.bin") bytes compared)"
  else
    echo "  the Windows and Linux builds differ: $(cmp "$tests/isa_avx2.bin" "$tests/isa_linux_avx2.bin")"; exit 1
  fi
fi

echo "== the package consumer, self-contained win-x64, under Wine"
dir=$root/build/package-check
package=$(ls "$dir"/feed/MlNetMlp.*.nupkg 2>/dev/null | head -1)
[ -n "$package" ] || { echo "no package in $dir/feed: run scripts/check-package.sh first"; exit 1; }
version=$(basename "$package" .nupkg | sed 's/^MlNetMlp\.//')
export NUGET_PACKAGES=$dir/packages
(cd "$dir/consumer" && dotnet publish -c Release -r win-x64 --self-contained -p:MlNetMlpVersion="$version" \
   -o "$dir/publish-win-x64" -nologo -v quiet)
test -f "$dir/publish-win-x64/libmlnetmlp.dll" || { echo "the win-x64 publish lacks libmlnetmlp.dll"; ls "$dir/publish-win-x64"; exit 1; }
models=$dir/models-win-x64
rm -rf "$models"
"$wine" "$dir/publish-win-x64/Consumer.exe" train "$(winpath "$models")" | tr -d '\r'
"$wine" "$dir/publish-win-x64/Consumer.exe" score "$(winpath "$models")" | tr -d '\r'
linux=$dir/consumer/bin/Release/net10.0/Consumer.dll
echo "  Windows against Linux (the same app, trained on each):"
dotnet "$linux" compare "$dir/models-linux-x64/score-scores.txt" "$models/score-scores.txt" 1e-5
echo "  the Windows-written model.zip files scored on Linux:"
rm -rf "$dir/models-win-on-linux" && cp -r "$models" "$dir/models-win-on-linux"
dotnet "$linux" score "$dir/models-win-on-linux" # must equal the Windows scores bit for bit
echo "windows check passed"

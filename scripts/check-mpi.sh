#!/usr/bin/env bash
# Data-parallel training on MPI (OpenMPI, loopback): samples/DistributedTraining on the embedded Fashion-MNIST subset
#  1. in one process, 1 thread (the baseline);
#  2. mpirun -np 2, 1 thread per rank: the same test accuracy and log-loss within 0.01 of the baseline, first-layer
#     weights within 0.01 (the same global batches; only the gradient's summation order differs, and Adam amplifies
#     rounding in near-zero gradients: the difference grows with the epochs);
#  3. again with 2 ranks on threads of one process (MlpInProcessCommunicator): bit-identical to the MPI run;
#  4. rank 1 exits (exit code 3), then crashes (FailFast), during epoch 2: mpirun must end the job with an error
#     within 120 s, not hang;
#  5. with checkpoints: rank 1 exits during epoch 4, the same command run again resumes from the last checkpoint
#     and ends with the weights of the uninterrupted run (2), bit for bit;
#  6. the sparse text path (Debian's package list, 16,000 rows, FeaturizeText: CSR rows, row-sparse gradient exchange):
#     one process against mpirun -np 2 (accuracy and log-loss within 0.01) and MPI against in-process ranks (bit-identical);
#  7. sharded and streamed: every rank streams only its shard of Fashion-MNIST (DataSharding = ByRowId): accuracy within
#     0.02 of one process (other minibatches: not the same run), MPI against in-process ranks bit-identical.
# Needs: apt-get install openmpi-bin libopenmpi-dev (the shim libmlnetmlp_mpi is built when cmake finds MPI).
set -euo pipefail
cd "$(dirname "$0")/.."
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader,tcp OMPI_MCA_btl_tcp_if_include=lo
dotnet build -c Release samples/DistributedTraining -v quiet -nologo >/dev/null
app=samples/DistributedTraining/bin/Release/net10.0/DistributedTraining.dll
test -f samples/DistributedTraining/bin/Release/net10.0/libmlnetmlp_mpi.so || { echo "libmlnetmlp_mpi.so was not built: is libopenmpi-dev installed?"; exit 1; }
out=build/mpi-check
rm -rf "$out" && mkdir -p "$out"
common=(--data samples/FashionMnist/data --epochs 6 --out "$out")

echo "== one process"
dotnet "$app" "${common[@]}" --threads 1 --weights "$out/w-1.bin" | tee "$out/one.log" | tail -2
echo "== mpirun -np 2"
mpirun -np 2 --oversubscribe dotnet "$app" "${common[@]}" --weights "$out/w-mpi.bin" | tee "$out/mpi.log" | grep -aoE "rank [0-9]: .*|test accuracy.*"
echo "== 2 ranks on threads of one process"
dotnet "$app" "${common[@]}" --ranks 2 --weights "$out/w-threads.bin" | tee "$out/threads.log" | grep -E "^rank|^test"

python3 - "$out" <<'PY'
import re, struct, sys
out = sys.argv[1]
def weights(name):
    b = open(f"{out}/{name}", "rb").read()
    return struct.unpack(f"{len(b) // 4}f", b)
def accuracy(name):
    return float(re.search(r"test accuracy ([0-9.]+)", open(f"{out}/{name}").read()).group(1))
def logloss(name):
    return float(re.search(r"log-loss ([0-9.]+)", open(f"{out}/{name}").read()).group(1))
one, mpi, threads = weights("w-1.bin"), weights("w-mpi.bin"), weights("w-threads.bin")
worst = max(abs(a - b) for a, b in zip(one, mpi))
print(f"2 MPI ranks against one process: test accuracy {accuracy('mpi.log'):.4f} vs {accuracy('one.log'):.4f}, "
      f"largest first-layer weight difference {worst:.3g} (of {len(one)} weights, largest |w| {max(map(abs, one)):.3g})")
print(f"  log-loss {logloss('mpi.log'):.4f} vs {logloss('one.log'):.4f}")
assert abs(accuracy("mpi.log") - accuracy("one.log")) <= 0.01, "accuracies differ by more than 0.01"
assert abs(logloss("mpi.log") - logloss("one.log")) <= 0.01, "log-losses differ by more than 0.01"
assert worst < 1e-2, "2 ranks drifted from one process"
assert mpi == threads, "MPI and in-process ranks differ"
sums = dict(re.findall(r"rank (\d+): fit .*first-layer weight sum (\S+)", open(f"{out}/mpi.log").read()))
assert len(sums) == 2 and sums["0"] == sums["1"], f"the two MPI ranks ended with different weights: {sums}"
print("MPI ranks and in-process ranks: bit-identical weights")
PY
for mode in exit crash; do
  echo "== rank 1: $mode during epoch 2"
  start=$(date +%s)
  set +e
  timeout 120 mpirun -np 2 --oversubscribe dotnet "$app" "${common[@]}" --fail-rank 1 --fail-epoch 2 \
    $([ $mode = crash ] && echo --fail-hard) > "$out/fail-$mode.log" 2>&1
  rc=$?
  set -e
  [ $rc -ne 0 ] || { echo "the job succeeded although rank 1 died"; exit 1; }
  [ $rc -ne 124 ] || { echo "the job hung after rank 1 died (killed by timeout after 120 s)"; tail "$out/fail-$mode.log"; exit 1; }
  echo "  the job ended with exit code $rc after $(( $(date +%s) - start )) s; mpirun: $(grep -a -m1 -E 'MPI_ABORT was invoked|exited on signal|exiting improperly|non-zero status|aborted' "$out/fail-$mode.log")"
done
echo "== checkpoints: rank 1 exits during epoch 4, then the job is run again"
set +e
timeout 120 mpirun -np 2 --oversubscribe dotnet "$app" "${common[@]}" --checkpoint "$out/job.ckpt" --fail-rank 1 --fail-epoch 4 \
  > "$out/ckpt-fail.log" 2>&1
rc=$?
set -e
[ $rc -ne 0 ] && [ $rc -ne 124 ] || { echo "the interrupted job did not fail cleanly (exit code $rc)"; tail "$out/ckpt-fail.log"; exit 1; }
test -f "$out/job.ckpt" || { echo "the interrupted job left no checkpoint"; exit 1; }
mpirun -np 2 --oversubscribe dotnet "$app" "${common[@]}" --checkpoint "$out/job.ckpt" --weights "$out/w-resumed.bin" \
  | tee "$out/ckpt-resume.log" | grep -aE "resuming|^  epoch|test accuracy"
grep -q "resuming from the checkpoint" "$out/ckpt-resume.log" || { echo "the second job did not resume"; exit 1; }
cmp "$out/w-mpi.bin" "$out/w-resumed.bin" || { echo "the resumed job's weights differ from the uninterrupted job's"; exit 1; }
echo "  resumed after a failure: bit-identical to the uninterrupted run"
echo "== sparse text: Debian packages, 16,000 rows"
text=build/debian-packages.tsv
# the export reads apt's package lists: refresh them once when they are missing (a fresh machine)
if [ ! -f "$text" ] || [ "$(wc -l < "$text")" -le 16000 ]; then
  python3 scripts/debian-packages-export.py "$text" || true
  if [ ! -f "$text" ] || [ "$(wc -l < "$text")" -le 16000 ]; then
    apt-get update -qq && python3 scripts/debian-packages-export.py "$text"
  fi
fi
textargs=(--text "$text" --rows 16000 --epochs 10 --hidden 128 --out "$out/text")
dotnet "$app" "${textargs[@]}" --threads 1 --weights "$out/t-1.bin" > "$out/text-one.log"
tail -1 "$out/text-one.log"
mpirun -np 2 --oversubscribe dotnet "$app" "${textargs[@]}" --weights "$out/t-mpi.bin" > "$out/text-mpi.log"
grep -aoE "rank [0-9]: .*|test accuracy.*" "$out/text-mpi.log"
dotnet "$app" "${textargs[@]}" --ranks 2 --weights "$out/t-threads.bin" > "$out/text-threads.log"
python3 - "$out" <<'PY'
import re, sys
out = sys.argv[1]
def metric(name, what):
    return float(re.search(what + r" ([0-9.]+)", open(f"{out}/{name}").read()).group(1))
for what in ("test accuracy", "log-loss"):
    one, mpi = metric("text-one.log", what), metric("text-mpi.log", what)
    print(f"sparse text, 2 MPI ranks against one process: {what} {mpi:.4f} vs {one:.4f}")
    assert abs(one - mpi) <= 0.01, f"{what} differs by more than 0.01"
assert open(f"{out}/t-mpi.bin", "rb").read() == open(f"{out}/t-threads.bin", "rb").read(), "sparse: MPI and in-process ranks differ"
print("sparse text: MPI ranks and in-process ranks: bit-identical weights")
PY
echo "== every rank streams its own shard"
mpirun -np 2 --oversubscribe dotnet "$app" "${common[@]}" --shard --stream --weights "$out/w-shard-mpi.bin" | tee "$out/shard-mpi.log" \
  | grep -aoE "rank [0-9]: .*|test accuracy.*"
dotnet "$app" "${common[@]}" --ranks 2 --shard --stream --weights "$out/w-shard-threads.bin" > "$out/shard-threads.log"
python3 - "$out" <<'PY'
import re, sys
out = sys.argv[1]
def metric(name, what):
    return float(re.search(what + r" ([0-9.]+)", open(f"{out}/{name}").read()).group(1))
one, mpi = metric("one.log", "test accuracy"), metric("shard-mpi.log", "test accuracy")
print(f"sharded + streamed, 2 MPI ranks against one process: test accuracy {mpi:.4f} vs {one:.4f}")
assert abs(one - mpi) <= 0.02, "sharded accuracy differs by more than 0.02"
assert open(f"{out}/w-shard-mpi.bin", "rb").read() == open(f"{out}/w-shard-threads.bin", "rb").read(), "sharded: MPI and in-process ranks differ"
print("sharded + streamed: MPI ranks and in-process ranks: bit-identical weights")
PY
echo "mpi check passed"

#!/usr/bin/env bash
# Runs ON a GPU machine (issue 16: NCCL among the GPUs of one host), from the repository copy, after the CUDA stage of
# benchmarks/gpu/cuda-backend-on-device.sh is in /root/stage (LITE=1 is enough); this project's classes come carried
# in .device/classes (rebuild with `benchmarks/gpu/cuda-backend-on-device.sh classes`). NCCL itself comes from the
# machine's PyTorch environment (Python package nvidia.nccl): its lib directory goes on LD_LIBRARY_PATH here, and
# NCCL_NVLS_ENABLE=0 is exported for every process (the GPU machines require NVLink multicast off).
# Steps (STEPS="tests bench torch" by default; each in its own process with its own time limit):
#   tests  JUnit: NcclArgumentsTest, NcclGroupGpuTest (one rank on device 0), NcclGroupMultiGpuTest and
#          NcclCommunicatorGpuTest (2 and 4 ranks where that many GPUs are visible; skipped otherwise)
#   bench  io.qsync.bench.gpu.NcclAllReduceBench: all-reduce of 64 MiB and 1 GiB on all GPUs (needs >= 2)
#   torch  benchmarks/gpu/nccl_torch_peer.py: torch.distributed NCCL all-reduce, same sizes, same GPUs
# Everything lands in $OUT/nccl-out.tgz (junit-*.txt, nccl-bench.json, nccl-torch.json, nccl-summary.md, logs).
#   run(command="bash benchmarks/gpu/nccl-on-device.sh", carry=[".device/classes"], kind="nvidia-h100-x2")
set -o pipefail
S=/root/stage
REPO=$(pwd)
. "$REPO/benchmarks/gpu/junit-class.sh"
OUTDIR=/tmp/nccl-out
rm -rf "$OUTDIR" && mkdir -p "$OUTDIR"
STEPS=${STEPS:-tests bench torch}
TESTS=${TESTS:-io.qsync.lowprec.cuda.NcclArgumentsTest io.qsync.lowprec.cuda.NcclGroupGpuTest io.qsync.lowprec.cuda.NcclGroupMultiGpuTest io.qsync.backend.cuda.NcclCommunicatorGpuTest}
SIZES=${SIZES:-64 1024}
NCCL_LIB=$(python3 -c "import nvidia.nccl, os; print(os.path.join(list(nvidia.nccl.__path__)[0], 'lib'))" 2>/dev/null)
[ -f "$NCCL_LIB/libnccl.so.2" ] || { echo "no libnccl.so.2 from python3's nvidia.nccl package (got '$NCCL_LIB')"; exit 4; }
export LD_LIBRARY_PATH=$NCCL_LIB:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
export NCCL_NVLS_ENABLE=0
# the CUDA stage's own preparation (stage check, JRE, ND4J natives, carried classes) with no step of its own
STEPS=prepare bash "$REPO/benchmarks/gpu/cuda-backend-device-run.sh" > "$OUTDIR/prepare.txt" 2>&1 \
    || { cat "$OUTDIR/prepare.txt"; exit 3; }
cd "$S"
{ nvidia-smi --query-gpu=index,name,memory.total,driver_version --format=csv; nvidia-smi topo -m; \
  echo "NCCL_LIB=$NCCL_LIB"; ls "$NCCL_LIB"; } > "$OUTDIR/machine.txt" 2>&1
head -12 "$OUTDIR/machine.txt"
CP="classes:$(ls lib/*.jar | grep -v junit-platform-console | tr '\n' ':')"
JAVA="./jre/bin/java ${JOPTS:-} -Xmx32g --add-modules jdk.incubator.vector"
pack() { tar czf "${OUT:-/tmp}/nccl-out.tgz" -C /tmp nccl-out; }
for step in $STEPS; do
  case $step in
    tests)
      for t in $TESTS; do
        junit_class "$t" "${TEST_LIMIT:-300}" "$OUTDIR" "tests (successful|failed|aborted|skipped)|JUnit exit|✘|=>|skipped"
        pack
      done ;;
    bench)
      timeout "${BENCH_LIMIT:-240}" $JAVA -cp "$CP" io.qsync.bench.gpu.NcclAllReduceBench "$OUTDIR/nccl-bench.json" $SIZES \
          > "$OUTDIR/bench.txt" 2>&1
      echo "bench exit $?"; grep -E "^NCCL|Exception|Error|unavailable" "$OUTDIR/bench.txt" | head -20 ;;
    torch)
      PYTHONUNBUFFERED=1 timeout "${TORCH_LIMIT:-180}" python3 "$REPO/benchmarks/gpu/nccl_torch_peer.py" \
          "$OUTDIR/nccl-torch.json" $SIZES > "$OUTDIR/torch.txt" 2>&1
      echo "torch exit $?"; tail -6 "$OUTDIR/torch.txt" ;;
  esac
  pack
done
python3 - "$OUTDIR" <<'PY' | tee "$OUTDIR/nccl-summary.md"
import json, os, sys
d = sys.argv[1]
def load(name):
    p = os.path.join(d, name)
    return json.load(open(p)) if os.path.exists(p) else None
j, t = load("nccl-bench.json"), load("nccl-torch.json")
print("| op | ranks | MiB | ours ms/op | ours bus GB/s | torch ms/op | torch bus GB/s | ours / torch |")
print("|---|---|---|---|---|---|---|---|")
torch_rows = {(r["op"], r["bytes"]): r for r in (t or {}).get("rows", [])}
for r in (j or {}).get("rows", []):
    p = torch_rows.get((r["op"], r["bytes"]))
    ratio = f"{r['busGBps'] / p['busGBps']:.3f}" if p else "-"
    print(f"| {r['op']} | {r['ranks']} | {r['bytes'] >> 20} | {r['msPerOp']:.4f} | {r['busGBps']:.1f} | "
          + (f"{p['msPerOp']:.4f} | {p['busGBps']:.1f} | " if p else "- | - | ") + ratio + " |")
if t:
    print(f"\ntorch {t.get('torch')}, NCCL {t.get('ncclVersion')} (torch's); ours NCCL {(j or {}).get('ncclVersion')};"
          f" devices {t.get('devices')}")
PY
pack

#!/usr/bin/env bash
# Runs ON the GPU machine, from the repository copy, after every part of benchmarks/gpu/cuda-backend-on-device.sh was
# staged to /root/stage; this project's classes come carried in .device/classes (so a fix needs no restaging).
# Steps (STEPS="tests bench torch epoch" by default; each in its own JVM with its own time limit):
#   tests  JUnit: TensorOpsParityGpuTest (every op vs the Java reference), CudaOpsGpuTest (low-precision ops, NVML),
#          CudnnConvolutionGpuTest (cuDNN vs im2col), CudaProgramEngineGpuTest (20 steps vs DL4J-CPU, replicas,
#          cuDNN vs im2col engines) and BackendContractTest (cpu + cuda arms)
#   bench  CudaEngineBench speed: whole steps, demo CNN b256 FP32, VGG-style b1024 FP32/TF32 with cuDNN and with
#          im2col + GEMM, CPU backend row
#   torch  benchmarks/gpu/torch_peer.py: PyTorch eager, same networks, batches and precisions
#   epoch  CudaEngineBench epoch: one Fashion-MNIST epoch of the demo CNN on CUDA and on the CPU backend
# JOPTS: extra JVM options; JPREFIX: a command in front of java (e.g. "compute-sanitizer --tool memcheck").
# Everything lands in $OUT/gpu-out.tgz (junit-*.txt, bench.json, torch.json, epoch.json, nvidia-smi.txt, logs).
set -o pipefail
S=/root/stage
REPO=$(pwd)
. "$REPO/benchmarks/gpu/junit-class.sh"
OUTDIR=/tmp/gpu-out
rm -rf "$OUTDIR"
STEPS=${STEPS:-tests bench torch epoch}
TESTS=${TESTS:-io.qsync.lowprec.cuda.TensorOpsParityGpuTest io.qsync.lowprec.cuda.CudaOpsGpuTest io.qsync.lowprec.cuda.CudnnConvolutionGpuTest io.qsync.backend.cuda.CudaProgramEngineGpuTest io.qsync.backend.cuda.CudaOutOfMemoryGpuTest io.qsync.backend.cuda.GreenSliceEngineGpuTest io.qsync.backend.cuda.ReplayedPassGpuTest io.qsync.backend.BackendContractTest}
mkdir -p "$OUTDIR"
[ -f "$S/PARTS" ] || { echo "stage incomplete: nothing staged - stage again from part 1"; exit 3; }
for p in $(seq 1 "$(cat $S/PARTS)"); do
  [ -f "$S/.part$p" ] || { echo "stage incomplete: part $p missing - stage again from part 1"; exit 3; }
done
cd "$S"
[ -x jre/bin/java ] || xz -dc jre.tar.xz | tar xf -
if [ ! -f lib/nd4j-native-1.0.0-M2.1-linux-x86_64.jar ]; then
  mkdir -p /tmp/nd4jn && xz -T8 -dc nd4j-native-linux.tar.xz | tar xf - -C /tmp/nd4jn
  (cd /tmp/nd4jn && python3 -m zipfile -c "$S/lib/nd4j-native-1.0.0-M2.1-linux-x86_64.jar" .)
fi
rm -rf "$S/classes" && tar xf "$REPO/.device/classes/classes.tar" -C "$S"
mkdir -p /usr/share/datasets/fashion-mnist && cp -n "$S"/data/*.gz /usr/share/datasets/fashion-mnist/
. "$REPO/benchmarks/gpu/gpu-libs.sh"
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,driver_version --format=csv 2>&1 | tee "$OUTDIR/nvidia-smi.txt"
CP="classes:$(ls lib/*.jar | grep -v junit-platform-console | tr '\n' ':')"
JAVA="${JPREFIX:-} ./jre/bin/java ${JOPTS:-} -Xmx64g --add-modules jdk.incubator.vector -Dqsync.fashionMnist.dir=$S/data -Dqsync.contract.backends=${CONTRACT_BACKENDS:-cuda}"
for step in $STEPS; do
  case $step in
    tests)
      for t in $TESTS; do
        junit_class "$t" "${TEST_LIMIT:-420}" "$OUTDIR" \
            " \| |CUDA program engine|CUDA replicas|cuDNN vs|tests (successful|failed|aborted|skipped)|JUnit exit|✘|=>"
        tar czf "${OUT:-/tmp}/gpu-out.tgz" -C /tmp gpu-out
      done ;;
    bench)
      timeout "${BENCH_LIMIT:-260}" $JAVA -cp "$CP" io.qsync.bench.gpu.CudaEngineBench speed "$OUTDIR/bench.json" > "$OUTDIR/bench.txt" 2>&1
      echo "bench exit $?"; grep -E "STEP|Exception|Error" "$OUTDIR/bench.txt" | head -20 ;;
    torch)
      PYTHONUNBUFFERED=1 timeout "${TORCH_LIMIT:-150}" python3 "$REPO/benchmarks/gpu/torch_peer.py" "$OUTDIR/torch.json" > "$OUTDIR/torch.txt" 2>&1
      echo "torch exit $?"; tail -12 "$OUTDIR/torch.txt" ;;
    epoch)
      timeout 190 $JAVA -cp "$CP" io.qsync.bench.gpu.CudaEngineBench epoch "$OUTDIR/epoch.json" "$S/data" > "$OUTDIR/epoch.txt" 2>&1
      echo "epoch exit $?"; grep -E "EPOCH|Exception|Error" "$OUTDIR/epoch.txt" | head -10 ;;
  esac
  tar czf "${OUT:-/tmp}/gpu-out.tgz" -C /tmp gpu-out
done
tar czf "${OUT:-/tmp}/gpu-out.tgz" -C /tmp gpu-out

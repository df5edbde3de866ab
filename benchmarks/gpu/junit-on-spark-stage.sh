#!/usr/bin/env bash
# Runs JUnit GPU tests ON the GPU machine from the Spark stage (after the .device/spark/part<N>/append.sh calls),
# so one machine life needs no second (JUnit) stage. Carry .device/spark-app (this project's jars and the JUnit console
# jar: `benchmarks/gpu/spark-on-device.sh app`) and .device/classes (`benchmarks/gpu/cuda-backend-on-device.sh classes`):
#   run(command="bash benchmarks/gpu/junit-on-spark-stage.sh", carry=[".device/spark-app", ".device/classes"])
# TESTS: classes or Class#method (default: ReplayedPassGpuTest and GreenSliceEngineGpuTest); TEST_LIMIT seconds each;
# BENCH: after the tests, `CudaEngineBench $b` for each b in it (speed | int8 | int8-kernels) into gpu-out/bench-$b.json;
# TORCHPEER: then PyTorch's side in the same call, for each t in it: speed (torch_peer.py's rows) | profile (its
# --profile: the VGG step kernel by kernel, and with deterministic cuDNN); JOPTS: extra JVM options;
# CLASSES_TAR / OUTNAME: see below; JPREFIX: a command in front of java (e.g. compute-sanitizer). Results: $OUT/gpu-out.tgz.
set -uo pipefail
. "$(dirname "$0")/spark-stage.sh" || exit 3
. "$REPO/benchmarks/gpu/junit-class.sh"
. "$REPO/benchmarks/gpu/gpu-libs.sh"
CONSOLE=$(ls "$REPO"/.device/spark-app/junit-platform-console-standalone-*.jar 2> /dev/null | head -1)
[ -n "$CONSOLE" ] || { echo "no JUnit console jar in .device/spark-app: run spark-on-device.sh app here"; exit 3; }
TAR=$REPO/${CLASSES_TAR:-.device/classes/classes.tar} # CLASSES_TAR: another build's classes (an A/B in one call)
[ -f "$TAR" ] || { echo "carry .device/classes (cuda-backend-on-device.sh classes)"; exit 3; }
cp "$CONSOLE" "$S/lib/"
# tests that read Fashion-MNIST from its Debian path (BackendContractTest) find it there, as on CI
mkdir -p /usr/share/datasets/fashion-mnist && cp -n "$S"/data/*.gz /usr/share/datasets/fashion-mnist/
rm -rf "$S/classes" && tar xf "$TAR" -C "$S"
NAME=${OUTNAME:-gpu-out} # OUTNAME: this run's folder and tar, e.g. to keep two runs of one call apart
OUTDIR=/tmp/$NAME
rm -rf "$OUTDIR" && mkdir -p "$OUTDIR"
cd "$S"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1 | tee "$OUTDIR/nvidia-smi.txt"
CP="classes:$(ls lib/*.jar spark/jars/*.jar | grep -v junit-platform-console | tr '\n' ':')"
JAVA="${JPREFIX:-} ./jre/bin/java ${JOPTS:-} -Xmx64g --add-modules jdk.incubator.vector -Dqsync.fashionMnist.dir=$S/data -Dqsync.contract.backends=${CONTRACT_BACKENDS:-cuda}"
for t in ${TESTS:-io.qsync.backend.cuda.ReplayedPassGpuTest io.qsync.backend.cuda.GreenSliceEngineGpuTest}; do
  junit_class "$t" "${TEST_LIMIT:-300}" "$OUTDIR" \
      " \| |CUDA program engine|replayed vs eager|weak slice|two slices|VGG drift|tests (successful|failed|aborted|skipped)|JUnit exit|✘|=>"
  tar czf "${OUT:-/tmp}/$NAME.tgz" -C /tmp "$NAME"
done
for b in ${BENCH:-}; do # one or several, in order
  timeout "${BENCH_LIMIT:-240}" $JAVA -cp "$CP" io.qsync.bench.gpu.CudaEngineBench "$b" "$OUTDIR/bench-$b.json" > "$OUTDIR/bench-$b.txt" 2>&1
  echo "bench $b exit $?"; grep -E "STEP|KERNELS|Exception|Error" "$OUTDIR/bench-$b.txt" | head -20
  tar czf "${OUT:-/tmp}/$NAME.tgz" -C /tmp "$NAME"
done
for t in ${TORCHPEER:-}; do
  if [ "$t" = profile ]; then set -- --profile "$OUTDIR/torch-profile.json"; else set -- "$OUTDIR/torch.json"; fi
  PYTHONUNBUFFERED=1 timeout "${TORCH_LIMIT:-240}" python3 "$REPO/benchmarks/gpu/torch_peer.py" "$@" > "$OUTDIR/torch-$t.txt" 2>&1
  echo "torch $t exit $?"; grep -E "^torch |kernel sum|TORCHDET|Error" "$OUTDIR/torch-$t.txt" | head -30
  tar czf "${OUT:-/tmp}/$NAME.tgz" -C /tmp "$NAME"
done

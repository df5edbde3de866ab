#!/usr/bin/env bash
# Runs ON the GPU machine after every part of benchmarks/gpu/cuda-backend-on-device.sh was staged to /root/stage:
# unpacks the JRE, classes and ND4J natives once, then runs the spark-qsync CUDA backend's GPU test
# (io.qsync.backend.cuda.CudaProgramEngineGpuTest: contract checks vs DL4J-CPU, replica determinism, selection).
# Writes junit.txt, junit-report.xml and nvidia-smi.txt under $OUT.
set -o pipefail
S=/root/stage
OUTDIR=${OUT:-/tmp/gpu-out}
mkdir -p "$OUTDIR"
for p in $(seq 1 "$(cat $S/PARTS)"); do
  [ -f "$S/.part$p" ] || { echo "stage incomplete: part $p missing - stage again from part 1"; exit 3; }
done
cd "$S"
if [ ! -x jre/bin/java ]; then
  xz -dc jre.tar.xz | tar xf -
fi
[ -d classes ] || tar xf classes.tar
if [ ! -f lib/nd4j-native-1.0.0-M2.1-linux-x86_64.jar ]; then
  mkdir -p /tmp/nd4jn && xz -dc nd4j-native-linux.tar.xz | tar xf - -C /tmp/nd4jn
  (cd /tmp/nd4jn && python3 -m zipfile -c "$S/lib/nd4j-native-1.0.0-M2.1-linux-x86_64.jar" .)
fi
export LD_LIBRARY_PATH=/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm --format=csv 2>&1 | tee "$OUTDIR/nvidia-smi.txt"
CP="classes:$(ls lib/*.jar | grep -v junit-platform-console | tr '\n' ':')"
./jre/bin/java -Xmx48g -Dqsync.fashionMnist.dir="$S/data" -jar lib/junit-platform-console-standalone-*.jar execute \
    --disable-banner --disable-ansi-colors --details=tree -cp "$CP" \
    --select-class io.qsync.backend.cuda.CudaProgramEngineGpuTest --reports-dir /tmp/junit-reports \
    > "$OUTDIR/junit.txt" 2>&1
echo "JUnit exit code $?" >> "$OUTDIR/junit.txt"
grep -E "CUDA program engine|tests (found|successful|failed|aborted|skipped)|JUnit exit|✘" "$OUTDIR/junit.txt"
cp /tmp/junit-reports/TEST-junit-jupiter.xml "$OUTDIR/junit-report.xml" 2>/dev/null

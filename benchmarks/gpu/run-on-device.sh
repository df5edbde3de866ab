#!/usr/bin/env bash
# Builds the nd4j-lowprec CUDA harness HERE and stages everything the GPU machine needs into one carried folder:
#   <dest>/classes   nd4j-lowprec's compiled classes (no ND4J is carried or loaded)
#   <dest>/bench-classes  the GPU harness (benchmarks module, io.qsync.bench.gpu)
#   <dest>/lib       javacpp-1.5.13 (+linux-x86_64) and cuda-13.1-9.19-1.5.13 (+linux-x86_64) jars (~6.6 MB)
#   <dest>/test-classes  nd4j-lowprec's GPU-vs-CPU checks (io.qsync.lowprec.cuda.check) and CudaOpsGpuTest
#   <dest>/junit     junit-platform-console-standalone (runs the GPU JUnit tests on the 1.5.13 class path)
#   <dest>/jre       a jlink'd Java runtime (java.base, jdk.unsupported; java.logging + java.xml for JUnit)
#   <dest>/device-main.sh   what runs THERE
# The device tool copies the session's checkout plus carried ignored paths, so <dest> defaults to .gpu in the root of
# the checkout this script is in (listed in .gitignore). Then call the device tool with
#   run(command="bash .gpu/device-main.sh full", carry=[".gpu"], timeout_s=600)
# and copy $OUT's results.md / profile.json back (see benchmarks/results/README or the printed hint).
# Usage: benchmarks/gpu/run-on-device.sh [dest]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DEST=${1:-$ROOT/.gpu}
JAVACPP=1.5.13
CUDA=13.1-9.19-1.5.13
M2=${M2_REPO:-$HOME/.m2/repository}

cd "$ROOT"
mvn -B -q ${MVN_OFFLINE:--o} -DskipTests -pl nd4j-lowprec,benchmarks -am test-compile
mkdir -p "$DEST/lib" "$DEST/junit"
rm -rf "$DEST/classes" "$DEST/test-classes" "$DEST/bench-classes"
cp -r nd4j-lowprec/target/classes "$DEST/classes"
mkdir -p "$DEST/test-classes/io/qsync/lowprec/cuda" "$DEST/bench-classes/io/qsync/bench"
cp nd4j-lowprec/target/test-classes/io/qsync/lowprec/cuda/CudaOpsGpuTest*.class "$DEST/test-classes/io/qsync/lowprec/cuda/"
cp -r nd4j-lowprec/target/test-classes/io/qsync/lowprec/cuda/check "$DEST/test-classes/io/qsync/lowprec/cuda/"
cp -r benchmarks/target/classes/io/qsync/bench/gpu "$DEST/bench-classes/io/qsync/bench/"
JUNIT=1.14.1
JF="$M2/org/junit/platform/junit-platform-console-standalone/$JUNIT/junit-platform-console-standalone-$JUNIT.jar"
[ -f "$JF" ] || mvn -B -q dependency:get -Dartifact="org.junit.platform:junit-platform-console-standalone:$JUNIT" -Dtransitive=false
cp "$JF" "$DEST/junit/"
for a in "org.bytedeco:javacpp:$JAVACPP" "org.bytedeco:javacpp:$JAVACPP:jar:linux-x86_64" \
         "org.bytedeco:cuda:$CUDA" "org.bytedeco:cuda:$CUDA:jar:linux-x86_64"; do
  IFS=: read -r g art v _ cls <<<"$a"
  f="$M2/${g//.//}/$art/$v/$art-$v${cls:+-$cls}.jar"
  [ -f "$f" ] || mvn -B -q dependency:get -Dartifact="$a" -Dtransitive=false
  cp "$f" "$DEST/lib/"
done
if [ ! -x "$DEST/jre/bin/java" ] || ! "$DEST/jre/bin/java" --list-modules | grep -q '^java.xml'; then
  rm -rf "$DEST/jre"
  jlink --add-modules java.base,jdk.unsupported,java.logging,java.xml --strip-debug --no-header-files --no-man-pages --compress=2 --output "$DEST/jre"
fi
cat > "$DEST/device-main.sh" <<'INNER'
#!/usr/bin/env bash
# Runs on the GPU machine from the repository root: bash .gpu/device-main.sh [full|checks|smoke]
set -o pipefail
cd "$(dirname "$0")/.."
# CUDA from the machine's toolkit; NCCL from wherever the machine's Python has the nvidia-nccl wheel (PyTorch's env)
CUDA_LIB=$(dirname "$(readlink -f "$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)")")/../lib64
NCCL_LIB=$(python3 -c 'import nvidia.nccl, os; print(os.path.join(list(nvidia.nccl.__path__)[0], "lib"))' 2>/dev/null || true)
export LD_LIBRARY_PATH=$CUDA_LIB${NCCL_LIB:+:$NCCL_LIB}:${LD_LIBRARY_PATH:-}
MODE=${1:-full}
OUTDIR=${OUT:-/tmp/gpu-out}
mkdir -p "$OUTDIR"
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,clocks.sm,temperature.gpu,power.limit --format=csv 2>&1 | tee "$OUTDIR/nvidia-smi.txt"
if [ "$MODE" != smoke ]; then
  # the GPU JUnit test (CudaOpsGpuTest) on the 1.5.13 class path; report counts in junit.txt, XML in junit-report.xml
  ./.gpu/jre/bin/java -Xmx16g -jar .gpu/junit/junit-platform-console-standalone-*.jar execute --disable-banner --disable-ansi-colors \
      --details=tree -cp ".gpu/classes:.gpu/test-classes:$(ls .gpu/lib/*.jar | tr '\n' ':')" \
      --select-class io.qsync.lowprec.cuda.CudaOpsGpuTest --reports-dir /tmp/junit-reports > "$OUTDIR/junit.txt" 2>&1
  echo "JUnit exit code $?" >> "$OUTDIR/junit.txt"
  grep -E "tests (found|successful|failed|aborted|skipped)|JUnit exit|✘" "$OUTDIR/junit.txt"
  cp /tmp/junit-reports/TEST-junit-jupiter.xml "$OUTDIR/junit-report.xml" 2>/dev/null
fi
./.gpu/jre/bin/java -Xmx16g -cp ".gpu/classes:.gpu/test-classes:.gpu/bench-classes:.gpu/lib/*" io.qsync.bench.gpu.GpuCheckAndBench "$OUTDIR" "$MODE" 0 2>&1 | tee "$OUTDIR/log.txt"
INNER
chmod +x "$DEST/device-main.sh"
du -sh "$DEST"
echo "Now: run(command=\"bash .gpu/device-main.sh full\", carry=[\".gpu\"], timeout_s=600)"
echo "Then copy <files_at>/results.md -> benchmarks/results/gpu-<card>.md, profile.json -> benchmarks/profiles/<card>.json"

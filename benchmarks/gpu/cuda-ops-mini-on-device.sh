#!/usr/bin/env bash
# One device call, no DL4J/ND4J natives (45 MB): every TensorOps op against the Java reference
# (TensorOpsParityGpuTest), the low-precision op checks and the NVML shutdown test (CudaOpsGpuTest) and the SM-slice
# test (GreenContextGpuTest). Builds .device/mini here; then
#   run(command="bash .device/mini/run.sh", carry=[".device/mini"], timeout_s=420)
# Results: $OUT/mini.tgz (one JUnit log per class) and the summary lines in the call's output.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
M2=${M2_REPO:-$HOME/.m2/repository}
D="$ROOT/.device/mini"
cd "$ROOT"
mvn -B -q ${MVN_OFFLINE:--o} test-compile -pl nd4j-lowprec
rm -rf "$D" && mkdir -p "$D/lib" "$D/classes"
cp -r nd4j-lowprec/target/classes/. nd4j-lowprec/target/test-classes/. "$D/classes/"
for a in org/bytedeco/javacpp/1.5.13/javacpp-1.5.13.jar org/bytedeco/javacpp/1.5.13/javacpp-1.5.13-linux-x86_64.jar \
         org/bytedeco/cuda/13.1-9.19-1.5.13/cuda-13.1-9.19-1.5.13.jar \
         org/bytedeco/cuda/13.1-9.19-1.5.13/cuda-13.1-9.19-1.5.13-linux-x86_64.jar \
         org/junit/platform/junit-platform-console-standalone/1.14.1/junit-platform-console-standalone-1.14.1.jar \
         org/nd4j/nd4j-api/1.0.0-M2.1/nd4j-api-1.0.0-M2.1.jar org/nd4j/nd4j-common/1.0.0-M2.1/nd4j-common-1.0.0-M2.1.jar \
         com/fasterxml/jackson/core/jackson-databind/2.18.2/jackson-databind-2.18.2.jar \
         com/fasterxml/jackson/core/jackson-core/2.18.2/jackson-core-2.18.2.jar \
         com/fasterxml/jackson/core/jackson-annotations/2.18.2/jackson-annotations-2.18.2.jar \
         org/slf4j/slf4j-api/2.0.16/slf4j-api-2.0.16.jar org/apache/commons/commons-lang3/3.17.0/commons-lang3-3.17.0.jar \
         org/apache/commons/commons-math3/3.6.1/commons-math3-3.6.1.jar; do
  cp "$M2/$a" "$D/lib/"
done
T=$(mktemp -d)
jlink --add-modules java.base,jdk.unsupported,java.logging,java.xml,java.management,java.naming,java.sql,jdk.management \
    --strip-debug --no-header-files --no-man-pages --compress=2 --output "$T/jre"
tar -C "$T" -cf - jre | xz -T2 -6 > "$D/jre.tar.xz"
rm -rf "$T"
cat > "$D/run.sh" <<'RUN'
#!/usr/bin/env bash
cd "$(dirname "$0")"
xz -dc jre.tar.xz | tar xf -
export LD_LIBRARY_PATH=/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
mkdir -p /tmp/o
CP="classes:$(ls lib/*.jar | grep -v junit-platform-console | tr '\n' ':')"
for t in io.qsync.lowprec.cuda.TensorOpsParityGpuTest io.qsync.lowprec.cuda.CudaOpsGpuTest \
         io.qsync.lowprec.cuda.GreenContextGpuTest; do
  s=${t##*.}
  timeout 200 ./jre/bin/java -Xmx16g -jar lib/junit-platform-console-standalone-1.14.1.jar execute --disable-banner \
    --disable-ansi-colors --details=tree -cp "$CP" --select-class "$t" > /tmp/o/$s.txt 2>&1
  echo "== $s exit $?"
  grep -E " \| |tests (successful|failed|aborted|skipped)|✘|✔|=>" /tmp/o/$s.txt | head -120
  tar czf "${OUT:-/tmp}/mini.tgz" -C /tmp o
done
RUN
chmod +x "$D/run.sh"
du -sh "$D"
echo 'run(command="bash .device/mini/run.sh", carry=[".device/mini"], timeout_s=420)'

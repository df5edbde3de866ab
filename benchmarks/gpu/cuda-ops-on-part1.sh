#!/usr/bin/env bash
# Runs ON the GPU machine from .device/p1ops (built by cuda-backend-on-device.sh): the op checks from the staged part 1
# (JRE + CUDA presets + nd4j-api + JUnit under /root/stage) and the carried nd4j-lowprec classes; logs in $OUT/ops.tgz.
cd "$(dirname "$0")"; H=$(pwd); S=/root/stage
tar xzf classes.tgz
(cd $S && { [ -x jre/bin/java ] || xz -dc jre.tar.xz | tar xf -; })
REPO=$(cd ../.. && pwd) # .device/p1ops inside the repository copy
. "$REPO/benchmarks/gpu/gpu-libs.sh"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
mkdir -p /tmp/o
CP="$H/classes:$H/slf4j-api-2.0.16.jar"
for j in javacpp-1.5.13 javacpp-1.5.13-linux-x86_64 cuda-13.1-9.19-1.5.13 cuda-13.1-9.19-1.5.13-linux-x86_64 nd4j-api-1.0.0-M2.1 nd4j-common-1.0.0-M2.1 jackson-databind-2.18.2 jackson-core-2.18.2 jackson-annotations-2.18.2 commons-lang3-3.17.0 commons-math3-3.6.1; do CP="$CP:$S/lib/$j.jar"; done
for t in ${OPTESTS:-io.qsync.lowprec.cuda.TensorOpsParityGpuTest io.qsync.lowprec.cuda.CudaOpsGpuTest io.qsync.lowprec.cuda.GreenContextGpuTest io.qsync.lowprec.cuda.CudnnConvolutionGpuTest}; do
  s=${t##*.}
  timeout ${OPLIMIT:-150} $S/jre/bin/java -Xmx16g --add-modules jdk.incubator.vector -jar $S/lib/junit-platform-console-standalone-1.14.1.jar execute --disable-banner \
    --disable-ansi-colors --details=tree -cp "$CP" --select-class "$t" > /tmp/o/$s.txt 2>&1
  echo "== $s exit $?"
  grep -E " \| |tests (successful|failed|aborted|skipped)|✘|=>|Exception" /tmp/o/$s.txt | head -80
  tar czf "${OUT:-/tmp}/ops.tgz" -C /tmp o
done

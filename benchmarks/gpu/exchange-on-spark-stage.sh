#!/usr/bin/env bash
# Runs ExchangeConditionsBench ON the GPU machine from the Spark stage (after the .device/spark/part<N>/append.sh
# calls): the gradient all-reduce timed as the Profiler times it and as training meets it (pinned buffers just written
# by a device-to-host copy, a late rank). Carry .device/spark-app and .device/classes
# (`benchmarks/gpu/cuda-backend-on-device.sh classes`):
#   run(command="bash benchmarks/gpu/exchange-on-spark-stage.sh", carry=[".device/spark-app", ".device/classes"])
# Result: $OUT/exchange.txt.
set -uo pipefail
. "$(dirname "$0")/spark-stage.sh" || exit 3
. "$REPO/benchmarks/gpu/gpu-libs.sh"
[ -f "$REPO/.device/classes/classes.tar" ] || { echo "carry .device/classes (cuda-backend-on-device.sh classes)"; exit 3; }
rm -rf "$S/classes" && tar xf "$REPO/.device/classes/classes.tar" -C "$S"
cd "$S"
CP="classes:$(ls lib/*.jar spark/jars/*.jar | grep -v junit-platform-console | tr '\n' ':')"
timeout "${BENCH_LIMIT:-60}" ./jre/bin/java -cp "$CP" io.qsync.bench.gpu.ExchangeConditionsBench "${OUT:-/tmp}/exchange.txt" \
    ${FLOATS:-2350000} ${ROUNDS:-41}

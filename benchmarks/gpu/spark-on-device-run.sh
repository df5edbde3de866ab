#!/usr/bin/env bash
# Runs `qsync train` through spark-submit (local[2] by default; MASTER overrides) from the stage that
# benchmarks/gpu/spark-on-device.sh built and its parts appended to $STAGE_DIR/all.tar; arguments go to `train`.
# The log lands in $OUT/spark-run.log ($LOG_NAME overrides the name); JOPTS: extra driver JVM options (local mode:
# the executors' too), e.g. JOPTS=-Dqsync.batchAhead=false for the A/B of RESULTS §11m.
set -uo pipefail
. "$(dirname "$0")/spark-stage.sh" || exit 3
export JAVA_HOME="$S/jre"
. "$REPO/benchmarks/gpu/gpu-libs.sh"
command -v nvidia-smi > /dev/null && nvidia-smi --query-gpu=name,memory.total --format=csv
FLAGS="--add-modules=jdk.incubator.vector --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED --enable-native-access=ALL-UNNAMED"
LOG="${OUT:-/tmp}/${LOG_NAME:-spark-run.log}"
"$S/spark/bin/spark-submit" --master "${MASTER:-local[2]}" --driver-memory "${DRIVER_MEMORY:-24g}" \
    --driver-class-path "$S/lib/*" --conf "spark.driver.extraJavaOptions=$FLAGS ${JOPTS:-}" \
    --class io.qsync.cli.QSyncCli "$S/app/spark-qsync.jar" train --data-dir "$S/data" "$@" 2>&1 | tee "$LOG" \
    | grep -E "qsync|accuracy|samples/s|Exception|Error" | tail -40

#!/usr/bin/env bash
# Spark 3.5 / Scala 2.12 smoke test (run by .ci/run): builds the -Pspark-3.5 job jar, lays out Spark 3.5 and Spark 4
# homes from Maven Central's jars (scripts/spark-home.sh), trains one epoch on 2 000 images through spark-submit on
# Spark 3.5, and checks that the same jar submitted to Spark 4 stops at once with the error naming both versions.
set -euo pipefail
cd "$(dirname "$0")/.."
work="${TMPDIR:-/tmp}/qsync-spark35-smoke"
rm -rf "$work" && mkdir -p "$work"
mvn -B -q -Pspark-3.5,dist -DskipTests package -pl spark-qsync -am
jar="$(ls spark-qsync/target/spark3.5/spark-qsync-*-spark3.5_2.12.jar)"
scripts/spark-home.sh "$work/spark-3.5" spark-3.5 >/dev/null
scripts/spark-home.sh "$work/spark-4.0" >/dev/null
submit() {
  local home="$1"; shift
  "$home/bin/spark-submit" --master 'local[2]' --class io.qsync.cli.QSyncCli --conf spark.ui.enabled=false \
    --conf spark.serializer=org.apache.spark.serializer.KryoSerializer \
    --conf spark.kryo.registrator=io.qsync.spark.QSyncKryoRegistrator "$jar" "$@"
}
passed=0
failed=0
start=$(date +%s)
if submit "$work/spark-3.5" train --limit 2000 --output "$work/model.zip" >"$work/out-3.5.txt" 2>"$work/err-3.5.txt" \
    && grep -q "final test accuracy" "$work/out-3.5.txt"; then
  echo "spark 3.5 smoke: $(grep -o 'final test accuracy: [0-9.]*%' "$work/out-3.5.txt") in $(( $(date +%s) - start )) s"
  passed=$((passed + 1))
else
  echo "spark 3.5 smoke FAILED:"; tail -n 40 "$work/out-3.5.txt" "$work/err-3.5.txt"
  failed=$((failed + 1))
fi
set +e
submit "$work/spark-4.0" train --limit 2000 >"$work/out-4.0.txt" 2>"$work/err-4.0.txt"
rc=$?
set -e
if [ "$rc" -eq 2 ] && grep -q "qsync train: spark-qsync was built for Spark 3.5 / Scala 2.12 but runs on Spark 4" \
    "$work/err-4.0.txt"; then
  echo "version check: $(grep -o 'spark-qsync was built.*' "$work/err-4.0.txt")"
  passed=$((passed + 1))
else
  echo "version check FAILED (exit $rc):"; tail -n 40 "$work/err-4.0.txt"
  failed=$((failed + 1))
fi
# planning needs no Spark: the job jar alone, without Spark's jars (picocli must not touch Spark types)
if java -jar "$jar" plan --model fashion-cnn --devices V100:1,T4:1 --batch 64 --out "$work/plan" >"$work/plan.txt" 2>&1 \
    && [ -s "$work/plan/plan.json" ]; then
  echo "plan without Spark: $(grep -m 1 "^wrote " "$work/plan.txt")"
  passed=$((passed + 1))
else
  echo "plan without Spark FAILED:"; tail -n 20 "$work/plan.txt"
  failed=$((failed + 1))
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

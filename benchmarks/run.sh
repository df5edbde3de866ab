#!/usr/bin/env bash
# Runs one benchmark harness main class with Spark's JVM flags on the benchmarks module's classpath.
# Usage: benchmarks/run.sh <main class> [args...]   (from the repository root)
# Example: benchmarks/run.sh io.qsync.bench.TrainingOverheadBench benchmarks/results/training-overhead.md 60
set -euo pipefail
cd "$(dirname "$0")/.."
# compile + classpath in one reactor run: sibling modules resolve to their target/classes
mvn -B -q -o -DskipTests -pl benchmarks -am compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt >/dev/null
flags=$(sed -n 's:.*<spark.jvm.flags>\(.*\)</spark.jvm.flags>.*:\1:p' pom.xml)
cp="benchmarks/target/classes:$(cat benchmarks/target/cp.txt)"
exec java -Xmx6g $flags -cp "$cp" "$@"

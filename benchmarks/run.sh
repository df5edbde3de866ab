#!/usr/bin/env bash
# Runs one benchmark harness main class with Spark's JVM flags on the benchmarks module's classpath.
# Usage: benchmarks/run.sh <main class> [args...]   (from the repository root)
# Example: benchmarks/run.sh io.qsync.bench.TrainingOverheadBench benchmarks/results/training-overhead.md 60
# The classpath is the reactor's: sibling modules resolve to their target/classes (never to stale io.qsync jars in
# ~/.m2); third-party jars (XChart, Spark, DL4J, ...) come from ~/.m2. The module classes are copied to a temporary
# snapshot first, so rebuilding the tree while a long benchmark runs cannot change the classes it loads.
set -euo pipefail
cd "$(dirname "$0")/.."
# compile + classpath in one reactor run
if ! mvn -B -q -o -DskipTests -pl benchmarks -am test-compile dependency:build-classpath \
    -Dmdep.outputFile=target/cp.txt >/tmp/qsync-run-build.$$.log 2>&1; then
  cat /tmp/qsync-run-build.$$.log >&2
  exit 1
fi
rm -f /tmp/qsync-run-build.$$.log
flags=$(sed -n 's:.*<spark.jvm.flags>\(.*\)</spark.jvm.flags>.*:\1:p' pom.xml)
snap=$(mktemp -d /tmp/qsync-classes.XXXXXX)
cp=""
for entry in benchmarks/target/classes $(tr ':' ' ' < benchmarks/target/cp.txt); do
  if [[ -d "$entry" ]]; then
    dest="$snap/$(echo "$entry" | tr '/' '_')"
    cp -r "$entry" "$dest"
    entry="$dest"
  fi
  cp="${cp:+$cp:}$entry"
done
if ! grep -q 'xchart' <<<"$cp"; then
  echo "run.sh: XChart is missing from the classpath (check the benchmarks/spark-qsync poms)" >&2
  exit 1
fi
rc=0
java -Xmx6g $flags -cp "$cp" "$@" || rc=$?
rm -rf "$snap"
exit $rc

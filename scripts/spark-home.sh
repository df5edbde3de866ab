#!/usr/bin/env bash
# Lays out a Spark home built from Maven Central's jars (no Spark download needed):
#   scripts/spark-home.sh DIR [spark-3.5]
# DIR/jars holds spark-core/sql/mllib and their dependencies (Spark 4.0 / Scala 2.13, or with spark-3.5 Spark 3.5 /
# Scala 2.12), DIR/RELEASE marks it as a distribution, and DIR/bin/spark-submit runs Spark's own launcher
# (org.apache.spark.launcher.Main builds the java command: default driver memory 1g, Spark's JVM flags), then that
# command, as the spark-submit of a Spark download does.
set -euo pipefail
dir="$(mkdir -p "$1" && cd "$1" && pwd)"
profile="${2:-}"
here="$(cd "$(dirname "$0")" && pwd)"
mkdir -p "$dir/jars" "$dir/bin" "$dir/conf"
mvn -B -q -f "$here/spark-dist/pom.xml" ${profile:+-P$profile} dependency:copy-dependencies \
  -DoutputDirectory="$dir/jars" -DincludeScope=runtime
echo "Spark jars from Maven Central (${profile:-spark-4.0})" > "$dir/RELEASE"
scala=2.13
if [ "$profile" = spark-3.5 ]; then scala=2.12; fi
cat > "$dir/bin/spark-submit" <<SUBMIT
#!/usr/bin/env bash
export SPARK_SCALA_VERSION=\${SPARK_SCALA_VERSION:-$scala}
SUBMIT
cat >> "$dir/bin/spark-submit" <<'SUBMIT'
# spark-submit: Spark's launcher prints its messages, a NUL, then the java command (NUL-separated); after it comes the
# launcher's exit status. Messages are shown, the command is run.
set -uo pipefail
export SPARK_HOME="$(cd "$(dirname "$0")/.." && pwd)"
java_bin="${JAVA_HOME:+$JAVA_HOME/bin/}java"
cmd=()
started=false
while IFS= read -r -d '' arg; do
  if $started; then cmd+=("${arg#$'\n'}"); else [ -z "$arg" ] || printf '%s\n' "$arg" >&2; started=true; fi
done < <("$java_bin" -Xmx128m -cp "$SPARK_HOME/jars/*" \
  org.apache.spark.launcher.Main org.apache.spark.deploy.SparkSubmit "$@"; printf '%d\0' $?)
status="${cmd[${#cmd[@]}-1]}"
unset 'cmd[${#cmd[@]}-1]'
if [ "$status" -ne 0 ]; then exit "$status"; fi
exec "${cmd[@]}"
SUBMIT
chmod +x "$dir/bin/spark-submit"
echo "$dir"

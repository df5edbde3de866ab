#!/usr/bin/env bash
# spark-submit on the GPU machine (issue 11 item 3, issue 10's one-epoch `train --backend cuda`): stages a Spark home
# built from Maven jars (scripts/spark-home.sh, without rocksdbjni: only Spark's disk-backed UI/state stores load it),
# a jlink'd JRE, this project's jar and its non-Spark runtime jars, ND4J's natives (xz) and Fashion-MNIST as one tar
# cut into parts of < 40 MiB (a part travels with the working tree under the 64 MiB a call carries: 56 MiB parts
# stopped fitting once the tree passed 7.9 MB); each part travels in its own call and is appended under /root/sstage
# (kept while the machine is warm); the last call extracts and runs `train`.
#   benchmarks/gpu/spark-on-device.sh            # here: builds .device/spark/part<N>/ and prints the calls
#   benchmarks/gpu/spark-on-device.sh app        # here: only this project's two jars into .device/spark-app/ (1 MB):
#       carried with the run call, they replace the staged ones, so a fix needs no restaging
#   run(command="bash .device/spark/part1/append.sh", carry=[".device/spark/part1"])   # ... one per part, then
#   run(command="bash benchmarks/gpu/spark-on-device-run.sh ARGS...", carry=[])  # ARGS: train's, e.g.
#       --backend cuda --epochs 1   (results: $OUT/spark-run.log)
# Check the staged layout on this machine first: STAGE_DIR=/tmp/sst bash benchmarks/gpu/spark-on-device-run.sh
# --backend cpu --epochs 1 --limit 2000 (after concatenating the parts into $STAGE_DIR/all.tar).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
M2=${M2_REPO:-$HOME/.m2/repository}
DEST="$ROOT/.device/spark"
LIMIT=${PART_BYTES:-$((40 * 1024 * 1024))}
cd "$ROOT"
mvn -B -q ${MVN_OFFLINE:--o} -DskipTests package dependency:build-classpath -pl spark-qsync -am \
    -DincludeScope=runtime -Dmdep.outputFile=target/runtime-classpath.txt
if [ "${1:-}" = app ]; then
  rm -rf "$ROOT/.device/spark-app" && mkdir -p "$ROOT/.device/spark-app"
  cp spark-qsync/target/spark-qsync-*-SNAPSHOT.jar "$ROOT/.device/spark-app/spark-qsync.jar"
  cp nd4j-lowprec/target/nd4j-lowprec-*-SNAPSHOT.jar "$ROOT/.device/spark-app/"
  rm -f "$ROOT"/.device/spark-app/*-tests.jar
  # JUnit's console jar, for GPU tests from this stage (junit-on-spark-stage.sh, with .device/classes carried too)
  JUNIT_JAR=$(ls "$M2"/org/junit/platform/junit-platform-console-standalone/*/junit-platform-console-standalone-*.jar \
      | grep -v sources | sort -V | tail -1)
  cp "$JUNIT_JAR" "$ROOT/.device/spark-app/"
  ls -la "$ROOT/.device/spark-app"
  exit 0
fi
T=$(mktemp -d)
S="$T/sstage"
mkdir -p "$S/lib" "$S/app" "$S/data"
bash scripts/spark-home.sh "$S/spark" > /dev/null
rm -f "$S"/spark/jars/rocksdbjni-*.jar
cp spark-qsync/target/spark-qsync-*-SNAPSHOT.jar "$S/app/spark-qsync.jar"
tr ':' '\n' < spark-qsync/target/runtime-classpath.txt | grep '\.jar$' | grep -v 'javacpp/1.5.7' \
    | grep -v 'nd4j-native-1.0.0-M2.1-linux-x86_64.jar' | while read -r j; do cp "$j" "$S/lib/"; done
cp nd4j-lowprec/target/nd4j-lowprec-*-SNAPSHOT.jar "$S/lib/"
NJ="$M2/org/nd4j/nd4j-native/1.0.0-M2.1/nd4j-native-1.0.0-M2.1-linux-x86_64.jar"
(mkdir -p "$T/nj" && cd "$T/nj" && unzip -q "$NJ" && tar cf - . | xz -T2 -6 > "$S/nd4j-native-linux.tar.xz")
cp /usr/share/datasets/fashion-mnist/*.gz "$S/data/"
jlink --add-modules java.base,jdk.incubator.vector,jdk.unsupported,java.logging,java.xml,java.management,java.naming,java.sql,jdk.management,java.security.jgss,java.security.sasl,jdk.crypto.ec,java.desktop,java.instrument,jdk.jfr,java.net.http,java.scripting,jdk.net,java.compiler,jdk.httpserver,jdk.security.auth,jdk.security.jgss,jdk.zipfs \
    --strip-debug --no-header-files --no-man-pages --compress=2 --output "$T/jre"
tar -C "$T" -cf - jre | xz -T2 -6 > "$S/jre.tar.xz"
# jars travel exploded in one solid xz (class files compress far better together: Spark's 239 MB of jars become
# ~110 MB); spark-on-device-run.sh zips them back (stored) on the device
X="$T/jars"
mkdir -p "$X"
(cd "$S" && for j in spark/jars/*.jar lib/*.jar app/*.jar; do
  mkdir -p "$X/$j"
  (cd "$X/$j" && unzip -q -o "$S/$j"; [ $? -le 1 ]) || { echo "cannot unpack $j" >&2; exit 1; } # 1: warnings only
  rm "$S/$j"
done)
tar -C "$X" -cf - . | xz -T2 -6 > "$S/jars.tar.xz"
rm -rf "$X"
rm -rf "$DEST" && mkdir -p "$DEST"
tar -C "$T" -cf "$T/all.tar" sstage
split -b "$LIMIT" -d -a 2 "$T/all.tar" "$T/part."
n=0
for f in "$T"/part.*; do
  n=$((n + 1))
  mkdir -p "$DEST/part$n"
  mv "$f" "$DEST/part$n/data"
  cat > "$DEST/part$n/append.sh" <<APPEND
#!/usr/bin/env bash
# appends part $n of PARTS to /root/sstage/all.tar (kept while the machine is warm)
set -euo pipefail
mkdir -p /root/sstage
if [ $n -eq 1 ]; then rm -f /root/sstage/all.tar /root/sstage/.part*; fi
if [ $n -gt 1 ] && [ ! -f /root/sstage/.part$((n - 1)) ]; then
  echo "stage incomplete: part $((n - 1)) missing (machine taken back?) - start again from part 1"; exit 3
fi
cat "\$(dirname "\$0")/data" >> /root/sstage/all.tar
touch /root/sstage/.part$n
ls -la /root/sstage/all.tar
APPEND
done
for p in $(seq 1 $n); do sed -i "s/PARTS/$n/" "$DEST/part$p/append.sh"; echo "$n" > "$DEST/part$p/PARTS"; done
rm -rf "$T"
du -sh "$DEST"/part*
for p in $(seq 1 $n); do echo "run(command=\"bash .device/spark/part$p/append.sh\", carry=[\".device/spark/part$p\"])"; done
echo "run(command=\"bash benchmarks/gpu/spark-on-device-run.sh --backend cuda --epochs 1\", carry=[\".device/spark-app\"])"

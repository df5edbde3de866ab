#!/usr/bin/env bash
# Builds the spark-qsync CUDA backend HERE and stages what its GPU test needs into parts of < 60 MiB, because one
# device call carries at most 64 MiB. What the device machine needs that it lacks: a Java runtime, DL4J/ND4J (CPU,
# for the DL4J reference side of the contract checks) with their natives, JavaCPP 1.5.13 + the CUDA 13 presets, this
# project's classes, JUnit, and the Fashion-MNIST training files.
#   .device/part<N>/   carried one call each; `stage.sh` copies a part to /root/stage (kept while the machine is warm)
#   .device/classes/   this project's classes (small): carried with every run call, so a fix travels without restaging
# Then, for N = 1..parts (the script prints the exact calls):
#   run(command="bash .device/part<N>/stage.sh", carry=[".device/part<N>"])
#   run(command="bash benchmarks/gpu/cuda-backend-device-run.sh", carry=[".device/classes"])   # results under $OUT
# If a call finds the stage incomplete (the machine was taken back), it says so: start again from part 1.
# Usage: benchmarks/gpu/cuda-backend-on-device.sh [classes]   (classes: rebuild .device/classes only)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DEST="$ROOT/.device"
M2=${M2_REPO:-$HOME/.m2/repository}
JAVACPP=1.5.13
CUDA=13.1-9.19-1.5.13
JUNIT=1.14.1
LIMIT=$((58 * 1024 * 1024))
cd "$ROOT"
mvn -B -q ${MVN_OFFLINE:--o} test-compile dependency:build-classpath -pl benchmarks -am \
    -DincludeScope=runtime -Dmdep.outputFile=target/test-classpath.txt
# copies class directories into one, concatenating META-INF/services files instead of letting the last one win
# (spark-qsync's test resources register a test backend beside the main cpu/cuda ones)
merge_classes() {
  local dest=$1; shift
  mkdir -p "$dest"
  for d in "$@"; do
    [ -d "$d/META-INF/services" ] && for f in "$d"/META-INF/services/*; do
      mkdir -p "$dest/.services"; cat "$f" >> "$dest/.services/$(basename "$f")"; echo >> "$dest/.services/$(basename "$f")"
    done
    cp -r "$d/." "$dest/"
  done
  if [ -d "$dest/.services" ]; then
    for f in "$dest"/.services/*; do grep -v '^[[:space:]]*$' "$f" > "$dest/META-INF/services/$(basename "$f")"; done
    rm -rf "$dest/.services"
  fi
}
CLASS_DIRS="nd4j-lowprec/target/classes spark-qsync/target/classes spark-qsync/target/test-classes nd4j-lowprec/target/test-classes benchmarks/target/classes"
if [ "${1:-}" = classes ]; then # only this project's classes (a fix): the staged parts stay as they are
  T=$(mktemp -d)
  mkdir -p "$DEST/classes"
  merge_classes "$T/classes" $CLASS_DIRS
  tar cf "$DEST/classes/classes.tar" -C "$T" classes && rm -rf "$T"
  if [ -d "$DEST/p1ops" ]; then # the first call's op checks take nd4j-lowprec's classes from here
    T=$(mktemp -d) && mkdir -p "$T/classes"
    cp -r nd4j-lowprec/target/classes/. nd4j-lowprec/target/test-classes/. "$T/classes/"
    tar czf "$DEST/p1ops/classes.tgz" -C "$T" classes && rm -rf "$T"
  fi
  ls -la "$DEST/classes"
  exit 0
fi
rm -rf "$DEST"
ALL="$DEST/all"
mkdir -p "$ALL/lib" "$ALL/classes" "$ALL/data"
merge_classes "$ALL/classes" $CLASS_DIRS
# the runtime class path (Spark is provided: the GPU test does not touch it; JUnit comes as the console jar) without
# javacpp 1.5.7 and the big ND4J native jar (re-packed below)
tr ':' '\n' < spark-qsync/target/test-classpath.txt | grep -v '/io/qsync/' | grep '\.jar$' | grep -v 'javacpp/1.5.7' | grep -v 'nd4j-native-1.0.0-M2.1-linux-x86_64.jar' > "$DEST/jars.txt"
while read -r j; do cp "$j" "$ALL/lib/"; done < "$DEST/jars.txt"
for a in "org.bytedeco:javacpp:$JAVACPP" "org.bytedeco:javacpp:$JAVACPP:jar:linux-x86_64" \
         "org.bytedeco:cuda:$CUDA" "org.bytedeco:cuda:$CUDA:jar:linux-x86_64" \
         "org.junit.platform:junit-platform-console-standalone:$JUNIT"; do
  IFS=: read -r g art v _ cls <<<"$a"
  f="$M2/${g//.//}/$art/$v/$art-$v${cls:+-$cls}.jar"
  [ -f "$f" ] || mvn -B -q dependency:get -Dartifact="$a" -Dtransitive=false
  cp "$f" "$ALL/lib/"
done
# ND4J's native jar (91 MB) as an xz'd tar of its contents (~31 MB); re-zipped there with Python's zipfile
NJ="$M2/org/nd4j/nd4j-native/1.0.0-M2.1/nd4j-native-1.0.0-M2.1-linux-x86_64.jar"
T=$(mktemp -d)
(cd "$T" && unzip -q "$NJ" && tar cf - . | xz -T2 -6 > "$ALL/nd4j-native-linux.tar.xz")
rm -rf "$T"
if [ -n "${LITE:-}" ]; then
  # LITE=1: two calls instead of three - the first 4096 training images (the checks' rows; no epoch run), and no jars
  # the GPU checks and benchmarks never load (plots, PDF, MILP, CLI, fastutil: only DL4J's CollectScoresListener)
  python3 - "$ALL/data" <<'PY'
import gzip, struct, sys
src, out = "/usr/share/datasets/fashion-mnist", sys.argv[1]
for name, n in (("train-images-idx3-ubyte", 4096), ("train-labels-idx1-ubyte", 4096),
                ("t10k-images-idx3-ubyte", 1000), ("t10k-labels-idx1-ubyte", 1000)):
    b = gzip.open(f"{src}/{name}.gz").read()
    dims = b[3]
    shape = struct.unpack(">" + "I" * dims, b[4:4 + 4 * dims])
    per = 1
    for d in shape[1:]:
        per *= d
    head = b[:4] + struct.pack(">I", n) + b[8:4 + 4 * dims]
    gzip.open(f"{out}/{name}.gz", "wb").write(head + b[4 + 4 * dims:4 + 4 * dims + n * per])
PY
  for j in fastutil- pdfbox fontbox graphics2d VectorGraphics2D animated-gif xchart ojalgo picocli; do
    rm -f "$ALL"/lib/$j*.jar
  done
else
  cp /usr/share/datasets/fashion-mnist/*.gz "$ALL/data/"
fi
T=$(mktemp -d)
jlink --add-modules java.base,jdk.incubator.vector,jdk.unsupported,java.logging,java.xml,java.management,java.naming,java.sql,jdk.management \
    --strip-debug --no-header-files --no-man-pages --compress=2 --output "$T/jre"
tar -C "$T" -cf - jre | xz -T2 -6 > "$ALL/jre.tar.xz"
rm -rf "$T"
mkdir -p "$DEST/classes"
(cd "$ALL" && tar cf "$DEST/classes/classes.tar" classes && rm -rf classes)
# greedy split of the files into parts under LIMIT
part=1
size=0
mkdir -p "$DEST/part1"
# what the op checks of the first call need comes first (see .device/p1ops below), then everything else
FIRST='^./(jre.tar.xz|lib/(javacpp-|cuda-|nd4j-api-|nd4j-common-|jackson-(core|databind|annotations)-|commons-lang3-|commons-math3-|junit-platform-console))'
for f in $(cd "$ALL" && { find . -type f | sort | grep -E "$FIRST"; find . -type f | sort | grep -vE "$FIRST"; }); do
  s=$(stat -c %s "$ALL/$f")
  lim=$LIMIT
  [ $part -eq 1 ] && lim=$((55 * 1024 * 1024)) # room for .device/p1ops (2.3 MB) in the first call
  if [ $((size + s)) -gt $lim ] && [ $size -gt 0 ]; then
    part=$((part + 1))
    size=0
    mkdir -p "$DEST/part$part"
  fi
  mkdir -p "$DEST/part$part/$(dirname "$f")"
  mv "$ALL/$f" "$DEST/part$part/$f"
  size=$((size + s))
done
rm -rf "$ALL"
PARTS=$part
# .device/p1ops: the op checks (TensorOpsParityGpuTest, CudaOpsGpuTest incl. NVML, GreenContextGpuTest) from the
# staged part 1 (JRE, CUDA presets, nd4j-api, JUnit) and the nd4j-lowprec classes, so the first call checks something
P1="$DEST/p1ops"
T=$(mktemp -d)
mkdir -p "$P1" "$T/classes"
cp -r nd4j-lowprec/target/classes/. nd4j-lowprec/target/test-classes/. "$T/classes/"
tar czf "$P1/classes.tgz" -C "$T" classes && rm -rf "$T"
cp "$M2/org/slf4j/slf4j-api/2.0.16/slf4j-api-2.0.16.jar" "$P1/"
cp benchmarks/gpu/cuda-ops-on-part1.sh "$P1/run.sh"
for p in $(seq 1 $PARTS); do
  (cd "$DEST/part$p" && find . -type f ! -name stage.sh | sort > MANIFEST)
  cat > "$DEST/part$p/stage.sh" <<INNER
#!/usr/bin/env bash
# copies part $p of $PARTS to /root/stage (the repository copy is replaced at every call; /root stays while warm)
set -euo pipefail
cd "\$(dirname "\$0")"
mkdir -p /root/stage
if [ $p -gt 1 ] && [ ! -f /root/stage/.part$((p - 1)) ]; then
  echo "stage incomplete: part $((p - 1)) missing (machine taken back?) - start again from part 1"; exit 3
fi
[ $p -eq 1 ] && rm -rf /root/stage/* /root/stage/.part*
cp -r . /root/stage/
touch /root/stage/.part$p
du -sh /root/stage
INNER
done
echo "$PARTS" > "$DEST/part$PARTS/PARTS"
du -sh "$DEST"/part*
echo "run(command=\"bash .device/part1/stage.sh && bash .device/p1ops/run.sh\", carry=[\".device/part1\", \".device/p1ops\"], timeout_s=500)"
for p in $(seq 2 $PARTS); do
  echo "run(command=\"bash .device/part$p/stage.sh\", carry=[\".device/part$p\"], timeout_s=300)"
done
echo "or, for the last part: run(command=\"bash .device/part$PARTS/stage.sh && bash benchmarks/gpu/cuda-backend-device-run.sh\", carry=[\".device/part$PARTS\", \".device/classes\"])"
echo "run(command=\"bash benchmarks/gpu/cuda-backend-device-run.sh\", carry=[\".device/classes\"], timeout_s=600)"

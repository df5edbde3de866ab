#!/usr/bin/env bash
# Sourced by spark-on-device-run.sh and junit-on-spark-stage.sh ON the GPU machine: makes the Spark stage usable. The
# parts appended to $STAGE_DIR/all.tar (benchmarks/gpu/spark-on-device.sh) are extracted once, the JRE unpacked, the
# exploded jars zipped back, ND4J's native jar rebuilt, and this project's carried jars (.device/spark-app) put in
# place. Sets REPO, STAGE_DIR and S (the stage root); returns 3 when the stage is incomplete.
REPO=$(cd "$(dirname "$0")/../.." && pwd)
STAGE_DIR=${STAGE_DIR:-/root/sstage}
cd "$STAGE_DIR" || { echo "no stage at $STAGE_DIR - append the parts first"; return 3; }
if [ ! -d sstage ]; then tar xf all.tar || { echo "stage incomplete: all.tar does not extract"; return 3; }; fi
S="$STAGE_DIR/sstage"
[ -x "$S/jre/bin/java" ] || (cd "$S" && xz -dc jre.tar.xz | tar xf -)
if [ ! -f "$S/app/spark-qsync.jar" ]; then # the jars travel exploded (see spark-on-device.sh): zip them back
  mkdir -p /tmp/jarsx && xz -T8 -dc "$S/jars.tar.xz" | tar xf - -C /tmp/jarsx
  python3 - /tmp/jarsx "$S" <<'PY' || { echo "could not rebuild the jars"; return 3; }
import os, sys, zipfile
from multiprocessing import Pool
root, dest = sys.argv[1], sys.argv[2]
jars = [os.path.join(b, n) for b in ("spark/jars", "lib", "app") if os.path.isdir(os.path.join(root, b))
        for n in sorted(os.listdir(os.path.join(root, b)))]
def make(rel):
    src, out = os.path.join(root, rel), os.path.join(dest, rel)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
        mf = os.path.join(src, "META-INF", "MANIFEST.MF")
        if os.path.exists(mf):
            z.write(mf, "META-INF/MANIFEST.MF")
        for dp, dns, fns in os.walk(src):
            dns.sort()
            rd = os.path.relpath(dp, src)
            if rd != ".":
                z.writestr(rd.replace(os.sep, "/") + "/", "")
            for f in sorted(fns):
                a = os.path.relpath(os.path.join(dp, f), src).replace(os.sep, "/")
                if a != "META-INF/MANIFEST.MF":
                    z.write(os.path.join(dp, f), a)
    return rel
with Pool(16) as p:
    print(len(p.map(make, jars)), "jars rebuilt")
PY
fi
if [ ! -f "$S/lib/nd4j-native-linux-x86_64.jar" ]; then
  mkdir -p /tmp/nd4jn && xz -T8 -dc "$S/nd4j-native-linux.tar.xz" | tar xf - -C /tmp/nd4jn
  (cd /tmp/nd4jn && python3 -m zipfile -c "$S/lib/nd4j-native-linux-x86_64.jar" .)
fi
APP="$REPO/.device/spark-app" # carried fix: this project's jars replace the staged ones
if [ -d "$APP" ]; then
  # only when they differ: jobs running side by side (hybrid-on-device.sh PAR) must not see a jar rewritten under them
  cmp -s "$APP/spark-qsync.jar" "$S/app/spark-qsync.jar" || cp "$APP/spark-qsync.jar" "$S/app/spark-qsync.jar"
  for j in "$APP"/nd4j-lowprec-*.jar; do
    cmp -s "$j" "$S/lib/$(basename "$j")" || { rm -f "$S"/lib/nd4j-lowprec-*.jar; cp "$j" "$S/lib/"; }
  done
  echo "project jars from $APP"
fi

#!/usr/bin/env bash
# Issue 11's hybrid runs on ONE card, through spark-submit (runs ON the GPU machine after the
# .device/spark/part<N>/append.sh calls; carry .device/spark-app for this project's jars):
#   2 workers on one H100/H200, rank 0 on a green context of ~3/4 of the SMs, rank 1 on ~1/4 with a memory cap
#   (spark.qsync.experimental.smFraction; experimental: SMs only, not memory bandwidth or clocks).
# RUNS picks the runs, in order (default "a c b d e g"):
#   a  both FP32
#   c  the planner's plan (plan=auto, rebalance off: the quantized plan itself); plan dir in $OUT/hybrid/c-plan
#   b  the weak worker uniform INT8, the strong one FP32 (built from c's plan.json: needs c first in this machine's life)
#   d  the planner's rebalance or leave-out when c's verdict proposed one (plan=auto, rebalance on, c's profiles reused)
#   e  the strong slice alone (1 worker, the whole global batch)
#   g  one GPU worker (whole card) and one CPU worker, demo CNN, plan=auto (advice reported, both trained), replicas
#      compared every step
#   h  g without a plan (both FP32)
#   B  b run eagerly (-Dqsync.cuda.copyBehind=false: every pass eager, none replayed), to set beside b: both modes
#      should compute the same bits
#   S  b with the gradient copies on the compute stream (-Dqsync.cuda.copyBehind=stream: still replayed, no copy
#      stream): beside b and B, says whether b's difference from B comes from the copy stream or from eager passes
#   x  ExchangeConditionsBench (exchange-on-spark-stage.sh; carry .device/classes too): the loopback all-reduce as
#      the Profiler times it beside the conditions training meets; $OUT/exchange.txt
#   s  test accuracy of (b) and (c) at more seeds (SEEDS, default "11 13"): (c) trains c's plan.json as a plan file,
#      (b) the b plan; both need c (and b's plan) from this machine's life. One seed's epoch moves test accuracy by
#      +-0.5 pp, so "(c) no worse than (b)" is read from the mean over seed 7 and these. SEED_RUNS (default "c b")
#      picks the runs at each seed; "a" trains (a)'s precisions (b's plan with FP32 for INT8) as a plan file, "f"
#      c's plan with FP16 wherever it says TF32. PAR=N runs N of them side by side (their speeds then mean nothing);
#      PLANS=<carried folder> brings c-plan/ and b-plan.json from an earlier machine life
# Each run's log is $OUT/hybrid/<run>.log (epoch line: samples/s, median step, test accuracy); the Replayer's
# predictions are in c-plan/plan.txt ("All FP32", "Uniform INT8 on ...", "... alone ...", the plan's own).
# ROUNDS=N (default 1) repeats RUNS N times, each a fresh job (c profiles and co-runs again), moving each round's
# logs and c-plan to $OUT/hybrid/r<i>/, then prints the Replayer's error per run and round (hybrid_errors.py): identical
# runs minutes apart differ by several per cent on one card (RESULTS §12g), so one round says little about the 5 % line.
set -uo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
H=/root/hybrid
mkdir -p "$H" "${OUT:-/tmp}/hybrid"
# PLANS: a carried folder with c-plan/ and b-plan.json from an earlier machine life, for s-runs on a fresh machine
if [ -n "${PLANS:-}" ] && [ ! -f "$H/c-plan/plan.json" ]; then
  cp -r "$REPO/$PLANS/c-plan" "$H/" && cp "$REPO/$PLANS/b-plan.json" "$H/" && echo "plans from $PLANS"
fi
# the card's clocks, power and temperature every 200 ms into gpu-clocks.csv (gpu-run-times.txt: each run's start and
# end), to see whether a sustained epoch runs at a lower clock than the short profiling and co-run bursts
if command -v nvidia-smi > /dev/null && [ -z "${CLOCKS_PID:-}" ]; then
  # started from a subshell, so it is not this shell's job: the seed runs' bare `wait` would otherwise wait for it
  # (and did: on 2026-12-07 16:50 they hung after their last job until the call's time limit)
  CLOCKS_PID=$(nvidia-smi --query-gpu=timestamp,clocks.sm,clocks.mem,power.draw,temperature.gpu,utilization.gpu \
      --format=csv -lms 200 > "${OUT:-/tmp}/hybrid/gpu-clocks.csv" 2> /dev/null & echo $!)
  export CLOCKS_PID
  trap 'kill $CLOCKS_PID 2> /dev/null' EXIT
fi
if [ "${ROUNDS:-1}" -gt 1 ]; then
  for i in $(seq 1 "$ROUNDS"); do
    echo "=== round $i of $ROUNDS"
    ROUNDS=1 bash "$0"
    mkdir -p "${OUT:-/tmp}/hybrid/r$i"
    (cd "${OUT:-/tmp}/hybrid" && for r in ${RUNS:-a c b d e g}; do mv -f "$r.log" "r$i/" 2> /dev/null; done
     mv -f c-plan b-plan.json "r$i/" 2> /dev/null; rm -f "r$i/c-plan/report.html")
  done
  python3 "$REPO/benchmarks/gpu/hybrid_errors.py" "${OUT:-/tmp}"/hybrid/r*
  python3 "$REPO/benchmarks/gpu/step_phases.py" $(ls "${OUT:-/tmp}"/hybrid/r*/[abc].log 2> /dev/null)
  python3 "$REPO/benchmarks/gpu/recorded_passes.py" $(ls "${OUT:-/tmp}"/hybrid/r*/[abce].log 2> /dev/null)
  [ -s "${OUT:-/tmp}/hybrid/gpu-clocks.csv" ] && python3 "$REPO/benchmarks/gpu/gpu_clocks.py" \
      "${OUT:-/tmp}/hybrid/gpu-clocks.csv" "${OUT:-/tmp}/hybrid/gpu-run-times.txt"
  exit 0
fi
MODEL=${MODEL:-vgg-cnn}
BATCH=${BATCH:-512}
EPOCHS=${EPOCHS:-1}
SM=${SM:-0.25}
# BUCKET: gradient bytes per all-reduce overlapped with the backward pass (spark.qsync.comm.bucketBytes; the planner
# replays the same). 4 MiB cuts the VGG's 9.3 MB gradient into 3 buckets, two of them hidden behind the backward; with
# the default 25 MiB (one bucket after the backward) the whole exchange, the step's noisiest term, was exposed (§12g).
BUCKET=${BUCKET:-4194304}
# Both slices' streams live in one process: with the default 8 hardware work queues a stream of one slice could queue
# behind the other's copy stream waiting on an event, and one worker's step then waited for the other's (rank 0's local
# gradient 14 -> 30 ms in some jobs, §12g/§12h). 32 queues, and green contexts asking for queues of their own (GreenContext).
export CUDA_DEVICE_MAX_CONNECTIONS=${CUDA_DEVICE_MAX_CONNECTIONS:-32}
# every rank logs every step's phases (STEP_PHASES=0: only their medians); step_phases.py sets the ranks side by side
if [ "${STEP_PHASES:-1}" != 0 ]; then
  export JAVA_TOOL_OPTIONS="${JAVA_TOOL_OPTIONS:-} -Dqsync.logStepPhases=true"
fi
A=(--backend cuda --model "$MODEL" --epochs "$EPOCHS" --batch-size "$BATCH" --seed 7
   --conf "spark.qsync.experimental.smFraction=$SM" --conf spark.qsync.progress=false
   --conf "spark.qsync.comm.bucketBytes=$BUCKET" ${EXTRA:-})
one() { # name master args...
  local name=$1 master=$2 t0
  shift 2
  t0=$(date +%s)
  echo "run $name start $(date -u +%H:%M:%S.%N)" >> "${OUT:-/tmp}/hybrid/gpu-run-times.txt"
  MASTER=$master LOG_NAME=hybrid/$name.log timeout "${RUN_LIMIT:-280}" \
      bash "$REPO/benchmarks/gpu/spark-on-device-run.sh" "$@" --output "$H/$name.zip" > /dev/null
  local rc=$?
  echo "run $name end $(date -u +%H:%M:%S.%N)" >> "${OUT:-/tmp}/hybrid/gpu-run-times.txt"
  echo "== $name exit $rc in $(($(date +%s) - t0)) s"
  grep -E "^epoch|final test accuracy|qsync plan=auto|median step|green context|^rank [0-9]+ \(|Exception|rror:" "${OUT:-/tmp}/hybrid/$name.log" | cut -c1-400 | tail -13
}
types() { # the two ranks' type names from c's devices.json
  python3 -c "import json,sys; print(','.join(d['device']['type'] for d in json.load(open(sys.argv[1]))))" "$H/c-plan/devices.json"
}
for r in ${RUNS:-a c b d e g}; do
  case $r in
    a) one a 'local[2]' "${A[@]}" --workers 2 ;;
    c) rm -rf "$H/c-plan"
       one c 'local[2]' "${A[@]}" --workers 2 --plan auto --conf spark.qsync.plan.rebalance=false \
           --conf "spark.qsync.plan.outDir=$H/c-plan"
       cp -r "$H/c-plan" "${OUT:-/tmp}/hybrid/" 2> /dev/null
       sed -n '1,60p' "$H/c-plan/plan.txt" 2> /dev/null | grep -E "ms|FP32|INT8|FP16|BF16|TF32|plan=auto" | head -30 ;;
    b) [ -f "$H/c-plan/devices.json" ] || { echo "== b skipped: run c first"; continue; }
       python3 - "$H/c-plan" "$H/b-plan.json" <<'PY'
import json, os, sys
src, dst = sys.argv[1], sys.argv[2]
f = os.path.join(src, "plan-qsync.json")
plan = json.load(open(f if os.path.exists(f) else os.path.join(src, "plan.json")))
types = [d["device"]["type"] for d in json.load(open(os.path.join(src, "devices.json")))]
weak, total = types[1], sum(d["workers"] * d["batchPerWorker"] for d in plan["devices"].values())
for name, d in plan["devices"].items():
    d["batchPerWorker"], d["batchShare"] = total // len(types), 1.0 / len(types)
    d["layers"] = {k: ("INT8" if name == weak else "FP32") for k in d["layers"]}
plan["rebalance"], plan["rebalanceReason"] = "NONE", "issue 11 (b): the weak slice uniform INT8, the strong one FP32"
json.dump(plan, open(dst, "w"), indent=2)
print("b plan:", {n: sorted(set(d["layers"].values())) for n, d in plan["devices"].items()})
PY
       cp "$H/b-plan.json" "${OUT:-/tmp}/hybrid/"
       one b 'local[2]' "${A[@]}" --workers 2 --conf "spark.qsync.plan.file=$H/b-plan.json" \
           --conf "spark.qsync.plan.devices=$(types)" ;;
    B) [ -f "$H/b-plan.json" ] || { echo "== B skipped: run b first"; continue; }
       JAVA_TOOL_OPTIONS="${JAVA_TOOL_OPTIONS:-} -Dqsync.cuda.copyBehind=false" \
           one b-eager 'local[2]' "${A[@]}" --workers 2 --conf "spark.qsync.plan.file=$H/b-plan.json" \
           --conf "spark.qsync.plan.devices=$(types)" ;;
    S) [ -f "$H/b-plan.json" ] || { echo "== S skipped: run b first"; continue; }
       JAVA_TOOL_OPTIONS="${JAVA_TOOL_OPTIONS:-} -Dqsync.cuda.copyBehind=stream" \
           one b-stream 'local[2]' "${A[@]}" --workers 2 --conf "spark.qsync.plan.file=$H/b-plan.json" \
           --conf "spark.qsync.plan.devices=$(types)" ;;
    d) if grep -q "qsync plan=auto: QSYNC" "${OUT:-/tmp}/hybrid/c.log" 2> /dev/null; then
         echo "== d skipped: c's verdict proposes neither a rebalance nor a leave-out"; continue
       fi
       rm -rf "$H/d-plan"
       one d 'local[2]' "${A[@]}" --workers 2 --plan auto --conf "spark.qsync.plan.profilesDir=$H/c-plan/profiles" \
           --conf "spark.qsync.plan.outDir=$H/d-plan"
       cp -r "$H/d-plan" "${OUT:-/tmp}/hybrid/" 2> /dev/null ;;
    e) one e 'local[1]' "${A[@]}" --workers 1 ;;
    x) bash "$REPO/benchmarks/gpu/exchange-on-spark-stage.sh" 2>&1 | tail -8 ;;
    s) [ -f "$H/c-plan/plan.json" ] && [ -f "$H/b-plan.json" ] || { echo "== s skipped: run c and b first"; continue; }
       sed 's/"INT8"/"FP32"/g' "$H/b-plan.json" > "$H/a-plan.json" # (a)'s precisions as a plan file
       sed 's/"TF32"/"FP16"/g' "$H/c-plan/plan.json" > "$H/f-plan.json" # (c) with FP16 where it has TF32
       running=0
       for seed in ${SEEDS:-11 13}; do
         S=("${A[@]}")
         S[9]=$seed # --seed's value
         for r in ${SEED_RUNS:-c b}; do
           case $r in c) f="$H/c-plan/plan.json" ;; b) f="$H/b-plan.json" ;; a) f="$H/a-plan.json" ;;
             f) f="$H/f-plan.json" ;; *) continue ;; esac
           # PAR jobs side by side (accuracy only: they share the card, so their speeds mean nothing)
           out=$(one "$r-s$seed" 'local[2]' "${S[@]}" --workers 2 --conf "spark.qsync.plan.file=$f" \
               --conf "spark.qsync.plan.devices=$(types)") && echo "$out" &
           running=$((running + 1))
           if [ "$running" -ge "${PAR:-1}" ]; then wait -n; running=$((running - 1)); fi
         done
       done
       wait ;;
    g) rm -rf "$H/g-plan"
       one g 'local[2]' --backend auto --model fashion-cnn --epochs 1 --batch-size 256 --seed 7 --workers 2 \
           --plan auto --conf spark.qsync.device.cpuWorkers=1 --conf spark.qsync.plan.rebalance=false \
           --conf spark.qsync.checksumEvery=1 --conf spark.qsync.threadsPerWorker=8 --conf spark.qsync.progress=false \
           --conf "spark.qsync.plan.outDir=$H/g-plan"
       cp -r "$H/g-plan" "${OUT:-/tmp}/hybrid/" 2> /dev/null ;;
    h) one h 'local[2]' --backend auto --model fashion-cnn --epochs 1 --batch-size 256 --seed 7 --workers 2 \
           --conf spark.qsync.device.cpuWorkers=1 --conf spark.qsync.checksumEvery=1 \
           --conf spark.qsync.threadsPerWorker=8 --conf spark.qsync.progress=false ${EXTRA:-} ;;
  esac
done

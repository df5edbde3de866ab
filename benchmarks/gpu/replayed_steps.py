#!/usr/bin/env python3
"""The Replayer's error over the steps a job replayed from a recorded graph, beside its error over all steps.

    python3 benchmarks/gpu/replayed_steps.py ROUND_DIR...   (as hybrid_errors.py; the logs need -Dqsync.logStepPhases)

Until 68eed61 the CUDA engine kept one recorded pass: a worker whose epoch split into batches of two sizes (30 000 rows
over 118 steps: 254 and 255) ran a pass eagerly the first time a size came back and re-recorded it the time after.
This replays that rule over the job's batch sizes (ShardSchedule: rows (s+1)*n/steps - s*n/steps of a shard of n),
marks each step replayed, recorded or eager, and compares the prediction with the median step of the replayed ones,
i.e. what the engine that keeps a recording per size runs every step (RESULTS §12k).
"""
import os
import re
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hybrid_errors import predicted  # noqa: E402

STEPS = re.compile(r"qsync rank 0 epoch 1 every step's step ms: ([-0-9. ]+)")
SHARD = re.compile(r"qsync train: (\d+) images, (\d+) workers")


def kinds(shard_rows, steps):
    recorded, eager, out = None, None, []
    for s in range(steps):
        rows = (s + 1) * shard_rows // steps - s * shard_rows // steps
        if recorded == rows:
            out.append("R")
        elif eager == rows:
            recorded = rows
            out.append("C")
        else:
            eager = rows
            out.append("E")
    return out


def main(dirs):
    for d in dirs:
        p = predicted(os.path.join(d, "c-plan", "plan.txt"))
        for r in ["a", "b", "c", "e"]:
            path = os.path.join(d, r + ".log")
            if not os.path.exists(path) or r not in p:
                continue
            step, images, workers = None, None, None
            with open(path, errors="replace") as f:
                for line in f:
                    m = STEPS.search(line)
                    if m:
                        step = [float(x) for x in m.group(1).split()]
                    m = SHARD.search(line)
                    if m:
                        images, workers = int(m.group(1)), int(m.group(2))
            if step is None or images is None:
                print(f"{path}: no per-step lines or no job header")
                continue
            k = kinds(images // workers, len(step))
            replayed = [t for i, t in enumerate(step) if i > 1 and k[i] == "R"]
            all_m, rep_m = statistics.median(step), statistics.median(replayed)
            print(f"{os.path.basename(os.path.normpath(d))} ({r}): predicted {p[r]:.3f} ms; all {len(step)} steps"
                  f" median {all_m:.2f} ({(p[r] - all_m) / all_m * 100:+.1f} %), mean {statistics.fmean(step[2:]):.2f};"
                  f" {len(replayed)} replayed: median {rep_m:.2f} ({(p[r] - rep_m) / rep_m * 100:+.1f} %),"
                  f" mean {statistics.fmean(replayed):.2f}; recorded at steps"
                  f" {[i for i, x in enumerate(k) if x == 'C'][:8]}...")


if __name__ == "__main__":
    main(sys.argv[1:])

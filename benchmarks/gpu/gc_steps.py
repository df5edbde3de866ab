#!/usr/bin/env python3
"""Whether a job's slow steps are the JVM's pauses: steps (from -Dqsync.logStepPhases=true) against the pauses of
-Xlog:gc*,safepoint:file=...:uptime, both stamped in seconds of the same JVM's uptime.

    python3 benchmarks/gpu/gc_steps.py JOB.log GC.log [GC.log...]

For rank 0: which steps took 12 % longer than the lower quartile in their local gradient ("slow"), which steps a pause
fell into, and how the two sets overlap; then the pauses' count, causes and total time inside the epoch.
"""
import collections
import re
import sys

VALUES = re.compile(r"qsync rank (\d+) epoch (\d+) every step's (.+?): ([-0-9. ]+)$")
PAUSE = re.compile(r"\[([0-9.]+)s\].*?(Pause [A-Za-z]+(?: \([A-Za-z ]+\))?)(?: \(([^)]*)\))?.* ([0-9.]+)ms$")
SAFEPOINT = re.compile(r"\[([0-9.]+)s\].*Safepoint \"([A-Za-z0-9_]+)\".*Total: ([0-9]+) ns")


def main(job, gc_logs):
    rows = {}
    with open(job, errors="replace") as f:
        for line in f:
            m = VALUES.search(line.rstrip())
            if m and m.group(1) == "0":
                rows[m.group(3)] = [float(x) for x in m.group(4).split()]
    start, local = rows.get("start s (JVM uptime)"), rows.get("local gradient ms")
    if not start or not local:
        print(f"{job}: no per-step start times (run with -Dqsync.logStepPhases=true)")
        return
    q1 = sorted(local[2:])[len(local[2:]) // 4]
    slow = {i for i, x in enumerate(local) if i > 1 and x > 1.12 * q1}
    pauses = []
    for path in gc_logs:
        with open(path, errors="replace") as f:
            for line in f:
                m = PAUSE.search(line.rstrip())
                if m:
                    pauses.append((float(m.group(1)), m.group(2) + (f" ({m.group(3)})" if m.group(3) else ""),
                                   float(m.group(4))))
                    continue
                m = SAFEPOINT.search(line)
                if m and int(m.group(3)) > 200_000:  # safepoints over 0.2 ms
                    pauses.append((float(m.group(1)), "safepoint " + m.group(2), int(m.group(3)) / 1e6))
    end = start[-1] + local[-1] / 1e3 + 0.05
    inside = [p for p in pauses if start[0] <= p[0] <= end]
    hit = {}
    for t, what, ms in inside:
        s = max(i for i, t0 in enumerate(start) if t0 <= t)
        hit.setdefault(s, []).append(f"{what} {ms:.1f} ms")
    print(f"{job}: rank 0, {len(local)} steps from {start[0]:.3f} s to {end:.3f} s of uptime; lower quartile of the"
          f" local gradient {q1:.2f} ms; {len(slow)} slow steps; {len(inside)} pauses in the epoch"
          f" ({sum(p[2] for p in inside):.1f} ms)")
    print(f"  slow steps with a pause: {len(slow & hit.keys())}; slow without: {sorted(slow - hit.keys())};"
          f" pauses in steps not slow: {sorted(hit.keys() - slow)}")
    causes = collections.Counter(p[1] for p in inside)
    for what, n in causes.most_common(8):
        print(f"  {n:4d} x {what}")
    for s in sorted(hit)[:12]:
        print(f"  step {s} ({local[s]:.2f} ms): " + "; ".join(hit[s]))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])

#!/usr/bin/env python3
"""The ranks of one job side by side, step by step, from the lines workers log with -Dqsync.logStepPhases=true.

    python3 benchmarks/gpu/step_phases.py hybrid/r1/b.log [more logs...]

Per log and epoch: each rank's median local gradient and its spread (1.4826 x MAD, % of the median); the ranks'
step-by-step Pearson correlation of the local gradient; the median over steps of the slowest rank's local gradient
beside the slowest rank's median (what a synchronous step waits for, and what medians alone predict); the median
whole step. Says whether the wait for the latest worker explains a step longer than its slowest rank's median.
"""
import re
import statistics
import sys

LINE = re.compile(r"qsync rank (\d+) epoch (\d+) every step's (.+?) ms: ([-0-9. ]+)")
ENGINE = re.compile(r"qsync engine on (.+?) every pass's (.+?) ms: ([-0-9. ]+)")


def spread(v):
    m = statistics.median(v)
    return 100 * 1.4826 * statistics.median(abs(x - m) for x in v) / m if m > 0 else 0.0


def pearson(a, b):
    ma, mb = statistics.fmean(a), statistics.fmean(b)
    sa = sum((x - ma) ** 2 for x in a) ** 0.5
    sb = sum((y - mb) ** 2 for y in b) ** 0.5
    return sum((x - ma) * (y - mb) for x, y in zip(a, b)) / (sa * sb) if sa > 0 and sb > 0 else float("nan")


def engine_sections(path):
    """The CUDA engines' own sections per pass (PassTimeline), in log order: [(engine, {section: [ms per pass]})]. An
    engine logs its sections one line each when it closes, named by device and timeline number; in logs from before
    the number, a section seen again for a device starts its next engine (two workers on one card then interleave, so
    their sections may mix)."""
    found, current = [], {}
    with open(path, errors="replace") as f:
        for line in f:
            m = ENGINE.search(line)
            if m:
                engine, section = m.group(1), m.group(2)
                if engine not in current or section in current[engine]:
                    current[engine] = {}
                    found.append((engine, current[engine]))
                current[engine][section] = [float(x) for x in m.group(3).split()]
    return found


def engines(path):
    """For each engine of the log: for the slowest tenth of passes, which section grew."""
    for device, sec in engine_sections(path):
        names = list(sec)
        n = min(len(v) for v in sec.values())
        total = [sum(sec[k][i] for k in names) for i in range(n)]
        order = sorted(range(2, n), key=lambda i: total[i])
        slow = order[-max(1, (n - 2) // 10):]
        med = {k: statistics.median(sec[k][2:n]) for k in names}
        print(f"  engine on {device}: {n} passes; median per section: "
              + ", ".join(f"{k} {med[k]:.2f}" for k in names) + " ms")
        print("    slowest tenth, added over the median per section: " + ", ".join(
            f"{k} +{statistics.fmean(sec[k][i] for i in slow) - med[k]:.2f}" for k in names) + " ms")


def main(paths):
    for path in paths:
        engines(path)
        runs = {}
        with open(path, errors="replace") as f:
            for line in f:
                m = LINE.search(line)
                if m:
                    rank, epoch, what = int(m.group(1)), int(m.group(2)), m.group(3)
                    runs.setdefault(epoch, {}).setdefault(rank, {})[what] = [float(x) for x in m.group(4).split()]
        if not runs:
            print(f"{path}: no per-step lines (run with -Dqsync.logStepPhases=true)")
            continue
        for epoch, ranks in sorted(runs.items()):
            rs = sorted(ranks)
            local = [ranks[r]["local gradient"][1:] for r in rs]  # the first step builds graphs and plans
            n = min(len(v) for v in local)
            local = [v[:n] for v in local]
            print(f"{path} epoch {epoch}: {n} steps after the first")
            for r, v in zip(rs, local):
                ex = ranks[r].get("exposed exchange", [0.0])[1:n + 1]
                st = ranks[r].get("step", [0.0])[1:n + 1]
                print(f"  rank {r}: local gradient median {statistics.median(v):.2f} ms, spread {spread(v):.1f} %,"
                      f" exposed exchange median {statistics.median(ex):.2f} ms, step median {statistics.median(st):.2f} ms")
            if len(local) > 1:
                latest = [max(col) for col in zip(*local)]
                slowest_median = max(statistics.median(v) for v in local)
                pairs = [pearson(local[i], local[j]) for i in range(len(local)) for j in range(i + 1, len(local))]
                wait = statistics.fmean(latest) - slowest_median
                print(f"  correlation of the ranks' local gradients: {statistics.median(pairs):.2f};"
                      f" latest rank per step: median {statistics.median(latest):.2f}, mean"
                      f" {statistics.fmean(latest):.2f} ms against the slowest median {slowest_median:.2f} ms"
                      f" (+{wait:.2f} ms expected wait)")


if __name__ == "__main__":
    main(sys.argv[1:])

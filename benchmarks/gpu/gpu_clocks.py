#!/usr/bin/env python3
"""The card's SM clock, power and temperature during each hybrid run, from hybrid-on-device.sh's sampler.

    python3 benchmarks/gpu/gpu_clocks.py hybrid/gpu-clocks.csv hybrid/gpu-run-times.txt

Per run (in the order they ran): samples at > 10 % utilisation, their median and lowest SM clock, median power and
the highest temperature; then the same per second of the run's busy time, so that a profile's short bursts can be set
beside a sustained epoch.
"""
import csv
import statistics
import sys


def number(text):
    try:
        return float(text.strip().split()[0])
    except (ValueError, IndexError):
        return float("nan")


def seconds(stamp):  # nvidia-smi "2026/12/07 11:50:01.123" or the runs' "11:50:01.123456789"
    t = stamp.strip().split()[-1]
    h, m, s = t.split(":")
    return int(h) * 3600 + int(m) * 60 + float(s[:9])


def main(clock_csv, run_times):
    rows = []
    with open(clock_csv) as f:
        for r in csv.reader(f):
            if not r or r[0].startswith("timestamp"):
                continue
            rows.append((seconds(r[0]), number(r[1]), number(r[3]), number(r[4]), number(r[5])))
    spans, starts = [], {}
    with open(run_times) as f:
        for line in f:
            p = line.split()
            if len(p) == 4 and p[2] == "start":
                starts[p[1]] = seconds(p[3])
            elif len(p) == 4 and p[2] == "end" and p[1] in starts:
                spans.append((p[1], starts.pop(p[1]), seconds(p[3])))
    for name, t0, t1 in spans:
        busy = [r for r in rows if t0 <= r[0] <= t1 and r[4] > 10]
        if not busy:
            print(f"{name}: no busy sample")
            continue
        clocks = [r[1] for r in busy]
        print(f"{name}: {len(busy)} busy samples over {t1 - t0:.0f} s; SM clock median {statistics.median(clocks):.0f},"
              f" lowest {min(clocks):.0f} MHz; power median {statistics.median(r[2] for r in busy):.0f} W;"
              f" temperature up to {max(r[3] for r in busy):.0f} C")
        per_second = {}
        for r in busy:
            per_second.setdefault(int(r[0] - t0), []).append(r)
        print("   per second (s: MHz/W/%util): " + "  ".join(
            f"{s}: {statistics.median(x[1] for x in v):.0f}/{statistics.median(x[2] for x in v):.0f}"
            f"/{statistics.median(x[4] for x in v):.0f}" for s, v in sorted(per_second.items())))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

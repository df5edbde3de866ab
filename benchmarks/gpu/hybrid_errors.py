#!/usr/bin/env python3
"""The Replayer's error per run of hybrid-on-device.sh rounds (issue 11's 5 % line), as a Markdown table.

Usage: hybrid_errors.py ROUND_DIR...   (each holds a.log, b.log, c.log, e.log and c-plan/plan.txt of one round)

Measured: rank 0's median step of epoch 1 (the iteration every rank shares). Predicted: the lines of c's plan.txt
("All FP32", "Uniform INT8 on ...", "QSync plan, equal batches", "<strong type> alone"). Error: (predicted - measured)
/ measured. A run missing from a round prints "-".
"""
import os
import re
import sys

STEP = re.compile(r"qsync rank 0 .*?median step ([0-9.]+) ms")
ALONE = re.compile(r"^(\S+) alone \(1 worker\(s\) x \d+ examples\), FP32: ([0-9.]+) ms")


def measured(path):
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = STEP.search(line)
            if m:
                return float(m.group(1))
    return None


def predicted(plan_txt):
    p = {}
    alone = []
    if not os.path.exists(plan_txt):
        return p
    with open(plan_txt, encoding="utf-8") as f:
        for line in f:
            if line.startswith("All FP32:"):
                p["a"] = float(line.split(":")[1].split("ms")[0])
            elif line.startswith("Uniform INT8 on"):
                p["b"] = float(line.split(":")[1].split("ms")[0])
            elif line.startswith("QSync plan, equal batches"):
                p["c"] = float(re.search(r"iteration ([0-9.]+) ms", line).group(1))
            else:
                m = ALONE.match(line)
                if m:
                    alone.append(float(m.group(2)))
    if alone:
        p["e"] = min(alone)  # (e) is the strong slice alone: the faster of the two single-worker lines
    return p


def main(dirs):
    runs = ["a", "b", "c", "e"]
    print("| round | " + " | ".join(f"({r}) measured / predicted ms, error" for r in runs) + " |")
    print("|---" * (len(runs) + 1) + "|")
    worst = 0.0
    for d in dirs:
        p = predicted(os.path.join(d, "c-plan", "plan.txt"))
        cells = []
        for r in runs:
            m = measured(os.path.join(d, r + ".log"))
            if m is None or r not in p:
                cells.append("-")
                continue
            e = (p[r] - m) / m * 100
            worst = max(worst, abs(e))
            cells.append(f"{m:.2f} / {p[r]:.3f}, {e:+.1f} %")
        print(f"| {os.path.basename(os.path.normpath(d))} | " + " | ".join(cells) + " |")
    print(f"\nlargest |error|: {worst:.1f} %")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])

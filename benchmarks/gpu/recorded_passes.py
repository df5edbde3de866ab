#!/usr/bin/env python3
"""Which passes each CUDA engine of a job recorded, read from its own timeline (-Dqsync.logStepPhases).

    python3 benchmarks/gpu/recorded_passes.py LOG...

Launching a replayed pass costs the host about 0.1 ms; recording one (or running it eagerly the first time a batch size
comes) costs milliseconds. Every engine's "launch pass" line is read, and the passes whose launch took over 1 ms are
listed: since the engine keeps one recording per batch size (68eed61), a worker with two batch sizes should list only
its first few passes (replayed_steps.py replays the rule of the engine before that). A profiling engine (a c.log's
engines with hundreds of passes) switches plans and records each anew, so it lists many.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from step_phases import engine_sections  # noqa: E402


def main(paths):
    for path in paths:
        for n, (_, sections) in enumerate(engine_sections(path)):
            ms = sections.get("launch pass")
            if ms is not None:
                slow = [i + 1 for i, t in enumerate(ms) if t > 1.0]
                late = [i for i in slow if i > 8]
                print(f"{path} engine {n + 1}: {len(ms)} passes, launch over 1 ms at passes {slow[:8]}"
                      + ("" if len(slow) <= 8 else f" and {len(slow) - 8} more")
                      + (f"; {len(late)} after pass 8 (re-recorded)" if late else ""))


if __name__ == "__main__":
    main(sys.argv[1:])

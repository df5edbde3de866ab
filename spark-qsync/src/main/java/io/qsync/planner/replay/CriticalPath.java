package io.qsync.planner.replay;

import io.qsync.planner.cost.Interconnect;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/** Formats the critical path of a replay as text. */
final class CriticalPath {
    private static final int TOP = 6;

    private CriticalPath() {}

    static String describe(
            List<WorkerReplay> workers, int critical, double cluster, Interconnect link, int n, BucketSchedule sched) {
        WorkerReplay w = workers.get(critical);
        StringBuilder b = new StringBuilder();
        b.append(String.format(
                Locale.ROOT, "Critical path (steady-state iteration %.3f ms, %d workers):%n", ms(cluster), n));
        b.append(String.format(
                Locale.ROOT,
                "  %s (%s x%d, batch %d): optimizer %.3f ms -> overhead %.3f ms -> "
                        + "forward %.3f ms -> backward %.3f ms (casts %.3f ms inside)%n",
                w.name(),
                w.device(),
                w.count(),
                w.batch(),
                ms(w.optimizerSeconds()),
                ms(w.overheadSeconds()),
                ms(w.forwardSeconds()),
                ms(w.backwardSeconds()),
                ms(w.castSeconds())));
        List<TimelineNode> nodes = new ArrayList<>(w.timeline().stream()
                .filter(t -> t.kind().equals("FWD")
                        || t.kind().equals("BWD")
                        || t.kind().equals("CAST"))
                .toList());
        nodes.sort(Comparator.comparingDouble(TimelineNode::duration).reversed());
        b.append("    largest nodes: ");
        for (int i = 0; i < Math.min(TOP, nodes.size()); i++) {
            TimelineNode t = nodes.get(i);
            b.append(i == 0 ? "" : ", ")
                    .append(t.kind())
                    .append(' ')
                    .append(t.label())
                    .append(String.format(Locale.ROOT, " %.3f ms", ms(t.duration())));
        }
        b.append(String.format(
                Locale.ROOT,
                "%n  -> gradient + loss all-reduce %.3f ms in %d bucket(s) over '%s' (slowest link, "
                        + "%.2f GB/s, %.1f us/hop, %s): %.3f ms hidden behind the backward pass, "
                        + "%.3f ms exposed%n",
                ms(sched.collectiveSeconds()),
                sched.buckets().size(),
                link.name(),
                link.bandwidthBytesPerSec() / 1e9,
                link.latencySeconds() * 1e6,
                link.describeWaits(),
                ms(Math.max(0, sched.collectiveSeconds() - w.allReduceSeconds())),
                ms(w.allReduceSeconds())));
        for (WorkerReplay o : workers) {
            if (o != w) {
                b.append(String.format(
                        Locale.ROOT,
                        "  %s waits %.3f ms (%.0f%% of the iteration)%n",
                        o.name(),
                        ms(o.waitSeconds()),
                        100 * o.waitSeconds() / cluster));
            }
        }
        return b.toString();
    }

    private static double ms(double s) {
        return s * 1e3;
    }
}

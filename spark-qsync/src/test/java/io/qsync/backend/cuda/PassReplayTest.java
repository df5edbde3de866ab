package io.qsync.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qsync.lowprec.train.TensorOps;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * {@link PassReplay}'s recordings per batch size, on ops whose capture records the body and whose replay runs it again
 * (what a CUDA graph does on the device; the device itself is covered by {@code ReplayedPassGpuTest}).
 */
class PassReplayTest {
    private final AtomicInteger captures = new AtomicInteger();
    private final AtomicInteger closed = new AtomicInteger();

    /** Ops whose only working method is {@code capture}, built from {@code capture}'s behaviour. */
    private static TensorOps ops(Function<Runnable, TensorOps.Replay> capture) {
        return (TensorOps) Proxy.newProxyInstance(
                TensorOps.class.getClassLoader(), new Class<?>[] {TensorOps.class}, (p, m, args) -> {
                    if (m.getName().equals("capture")) {
                        return capture.apply((Runnable) args[0]);
                    }
                    throw new UnsupportedOperationException(m.getName());
                });
    }

    private TensorOps recording() {
        return ops(body -> {
            captures.incrementAndGet();
            return new TensorOps.Replay() {
                @Override
                public void launch() {
                    body.run();
                }

                @Override
                public void close() {
                    closed.incrementAndGet();
                }
            };
        });
    }

    private static List<PassReplay.Ran> run(PassReplay r, int... rows) {
        List<PassReplay.Ran> out = new ArrayList<>();
        for (int n : rows) {
            out.add(r.run(n, () -> {}));
        }
        return out;
    }

    @Test
    void alternatingBatchSizesAreRecordedOnceEachAndThenReplayed() {
        PassReplay r = new PassReplay(recording(), true);
        int[] rows = new int[40];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = i % 3 == 1 ? 255 : 254; // as an epoch of 30 000 rows over 118 steps splits
        }
        List<PassReplay.Ran> ran = run(r, rows);
        assertEquals(2, captures.get(), "one recording per size, never re-recorded: " + ran);
        assertEquals(2, ran.stream().filter(x -> x == PassReplay.Ran.EAGER).count(), ran.toString());
        assertEquals(36, ran.stream().filter(x -> x == PassReplay.Ran.REPLAYED).count(), ran.toString());
        assertEquals("replayed (batch 254, 255)", r.state());
        r.close();
        assertEquals(2, closed.get());
    }

    @Test
    void theLeastRecentlyUsedRecordingIsFreedBeyondTheLimit() {
        PassReplay r = new PassReplay(recording(), true);
        int sizes = PassReplay.MAX_RECORDINGS + 1;
        for (int n = 1; n <= sizes; n++) {
            run(r, n, n); // eager, then recorded
        }
        assertEquals(sizes, captures.get());
        assertEquals(1, closed.get(), "the first size's recording is freed");
        assertEquals(List.of(PassReplay.Ran.REPLAYED), run(r, sizes));
        assertEquals(List.of(PassReplay.Ran.RECORDED), run(r, 1), "size 1 was seen eagerly: it records again");
        r.forget();
        assertEquals(List.of(PassReplay.Ran.RECORDED), run(r, 2));
        r.reset();
        assertEquals(List.of(PassReplay.Ran.EAGER, PassReplay.Ran.RECORDED), run(r, 2, 2));
    }

    @Test
    void opsThatCannotRecordRunEveryPassEagerlyAndSayWhy() {
        PassReplay none = new PassReplay(ops(body -> null), true);
        assertEquals(List.of(PassReplay.Ran.EAGER, PassReplay.Ran.EAGER, PassReplay.Ran.EAGER), run(none, 8, 8, 8));
        assertFalse(none.mayReplay());
        assertEquals("eager: these ops do not record", none.state());

        PassReplay failing = new PassReplay(
                ops(body -> {
                    throw new IllegalStateException("step 3 cannot be recorded");
                }),
                true);
        run(failing, 8, 8);
        assertFalse(failing.mayReplay());
        assertTrue(failing.state().contains("step 3 cannot be recorded"), failing.state());

        PassReplay off = new PassReplay(recording(), false);
        assertEquals(List.of(PassReplay.Ran.EAGER, PassReplay.Ran.EAGER), run(off, 8, 8));
        assertEquals(0, captures.get());
        assertEquals("eager: turned off", off.state());
    }

    @Test
    void marksOfEachSizeComeBackWithItsReplay() {
        PassMarks marks = new PassMarks();
        List<Long> seen = new ArrayList<>();
        TensorOps.Mark ok = () -> {};
        marks.queued(List.of(ok, ok, ok), List.of(100L, 50L));
        marks.ran(254, PassReplay.Ran.RECORDED);
        marks.queued(List.of(ok, ok), List.of(70L));
        marks.ran(255, PassReplay.Ran.RECORDED);
        marks.ran(254, PassReplay.Ran.REPLAYED);
        marks.awaitAll(seen::add);
        assertEquals(List.of(100L, 50L), seen);
        assertThrows(IllegalStateException.class, () -> marks.ran(256, PassReplay.Ran.REPLAYED));
    }
}

package io.qsync.comm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The TCP ring between real separate JVMs on loopback. */
class MultiProcessRingTest {
    private static final int LEN = 300_001;

    /** A child JVM running {@link RingChildMain}. */
    private static final class Child implements AutoCloseable {
        final Process process;
        final BufferedReader out;
        final PrintWriter in;

        Child(int rank, int size, String mode) throws IOException {
            List<String> cmd = new ArrayList<>();
            cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                    .filter(a -> a.startsWith("--add-") || a.startsWith("-XX:+IgnoreUnrecognized"))
                    .toList());
            cmd.addAll(List.of(
                    "-Xmx256m",
                    "-cp",
                    System.getProperty("java.class.path"),
                    RingChildMain.class.getName(),
                    Integer.toString(rank),
                    Integer.toString(size),
                    mode,
                    Integer.toString(LEN)));
            process = new ProcessBuilder(cmd)
                    .redirectError(ProcessBuilder.Redirect.INHERIT)
                    .start();
            out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            in = new PrintWriter(process.getOutputStream(), true, StandardCharsets.UTF_8);
        }

        /** Next stdout line starting with {@code prefix}; the rest of the line. */
        String expect(String prefix) throws IOException {
            String line;
            while ((line = out.readLine()) != null) {
                if (line.startsWith(prefix + " ") || line.equals(prefix)) {
                    return line.substring(Math.min(line.length(), prefix.length() + 1));
                }
            }
            throw new AssertionError("child exited without printing " + prefix);
        }

        @Override
        public void close() {
            process.destroyForcibly();
        }
    }

    private static List<Child> startRing(String mode1) throws IOException {
        List<Child> kids = List.of(new Child(0, 2, "reduce"), new Child(1, 2, mode1));
        String peers = kids.get(0).expect("ADDR") + "," + kids.get(1).expect("ADDR");
        for (Child c : kids) {
            c.in.println("PEERS " + peers);
        }
        return kids;
    }

    @Test
    void twoProcessesAgreeOnACorrectAllReduce() {
        assertTimeoutPreemptively(Duration.ofSeconds(120), () -> {
            List<Child> kids = startRing("reduce");
            try {
                String sum0 = kids.get(0).expect("CHECKSUM");
                String sum1 = kids.get(1).expect("CHECKSUM");
                assertEquals(sum0, sum1, "both processes hold bitwise identical results");
                float first = Float.parseFloat(kids.get(0).expect("FIRST"));
                float expect =
                        CommunicatorContractTest.data(0, LEN, 42)[0] + CommunicatorContractTest.data(1, LEN, 42)[0];
                assertEquals(expect, first, 1e-5f * Math.max(1f, Math.abs(expect)));
                for (Child c : kids) {
                    assertTrue(c.process.waitFor(60, TimeUnit.SECONDS));
                    assertEquals(0, c.process.exitValue());
                }
            } finally {
                kids.forEach(Child::close);
            }
        });
    }

    @Test
    void killingOneProcessMakesTheOtherFailWithCommException() {
        assertTimeoutPreemptively(Duration.ofSeconds(120), () -> {
            List<Child> kids = startRing("wait");
            try {
                kids.get(1).expect("READY"); // connected; child 1 now waits for input that never comes
                kids.get(0).expect("READY");
                // child 1 ("wait" mode) blocks before its collective: stop it only after it is connected
                long t0 = System.nanoTime();
                kids.get(1).process.destroyForcibly().waitFor();
                String msg = kids.get(0).expect("COMM_EXCEPTION");
                long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                assertTrue(msg.contains("rank 1"), msg);
                assertTrue(
                        ms < 30_000, "took " + ms + " ms (ioTimeout is 60 s: must fail by the close, not the timeout)");
                assertTrue(kids.get(0).process.waitFor(60, TimeUnit.SECONDS));
                assertEquals(3, kids.get(0).process.exitValue());
            } finally {
                kids.forEach(Child::close);
            }
        });
    }
}

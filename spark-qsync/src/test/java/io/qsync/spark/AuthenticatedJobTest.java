package io.qsync.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qsync.comm.Stranger;
import io.qsync.data.FashionMnist;
import io.qsync.data.ImageFrames;
import io.qsync.models.DemoModels;
import io.qsync.runtime.EpochStats;
import io.qsync.runtime.ModelSpec;
import io.qsync.runtime.ProgressSink;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A job under {@code spark.authenticate} while a stranger (no secret, but knowing the wire formats) connects to every
 * port this JVM listens on, including the ring's and the driver's progress port, and forges what a member would send.
 */
class AuthenticatedJobTest {
    private static SparkSession spark;
    private static Dataset<Row> frame;

    @BeforeAll
    static void start() {
        spark = SparkSession.builder()
                .master("local[2]")
                .appName("authenticated-job-test")
                .config("spark.ui.enabled", "false")
                .config("spark.authenticate", "true")
                .config("spark.authenticate.secret", "test-secret-" + System.nanoTime())
                .config("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
                .config("spark.kryo.registrator", QSyncKryoRegistrator.class.getName())
                .config("spark.sql.shuffle.partitions", "2")
                .getOrCreate();
        frame = ImageFrames.toFrame(
                        spark, FashionMnist.load(FashionMnist.Split.TRAIN).head(1280), 2)
                .cache();
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    /** Records what reaches the user. */
    private static final class Recorder implements ProgressSink {
        final List<String> lines = new CopyOnWriteArrayList<>();

        @Override
        public void step(int epoch, int step, int stepsPerEpoch, double loss, double samplesPerSecond) {
            lines.add("S " + epoch + " " + step + " " + stepsPerEpoch + " " + loss + " " + samplesPerSecond);
        }

        @Override
        public void epoch(EpochStats s) {
            lines.add("E " + s.epoch() + " " + s.steps() + " " + s.samples() + " " + s.testAccuracy());
        }

        @Override
        public void close() {}
    }

    private static TrainJob.Result train(Recorder sink) {
        Map<String, String> s = new HashMap<>();
        s.put("spark.qsync.numWorkers", "2");
        s.put("spark.qsync.batchSize", "64");
        s.put("spark.qsync.epochs", "2");
        s.put("spark.qsync.comm.connectTimeout", "30s");
        return TrainJob.train(
                spark,
                frame,
                ModelSpec.fromJson(DemoModels.mlp(21, 32, 1e-3).toJson()),
                TrainSettings.from(s),
                null,
                null,
                sink);
    }

    @Test
    void aStrangerIsRefusedByRingAndProgressPortAndTheJobFinishesUnharmed() {
        assertTimeoutPreemptively(Duration.ofSeconds(240), () -> {
            TrainJob.Result reference = train(new Recorder());
            Map<Integer, Stranger.Kind> visited = new ConcurrentHashMap<>();
            Recorder seen;
            TrainJob.Result r;
            // a ring port listens only until the ring is joined (milliseconds on a warm JVM): a job the stranger
            // did not reach in time is run again, up to three times; every run must finish unharmed
            int runs = 0;
            do {
                Thread scanner = new Thread(() -> scan(visited), "stranger");
                scanner.setDaemon(true);
                scanner.start();
                seen = new Recorder();
                try {
                    r = train(seen);
                } finally {
                    scanner.interrupt();
                }
                scanner.join(10_000);
                runs++;
                assertEquals(reference.replicaChecksums()[0], r.replicaChecksums()[0], "run " + runs + " unharmed");
            } while (!visited.containsValue(Stranger.Kind.RING) && runs < 3);
            System.out.println("stranger visited: " + visited + " in " + runs + " run(s)");
            assertTrue(visited.containsValue(Stranger.Kind.RING), "the stranger reached a ring port: " + visited);
            assertTrue(
                    visited.containsValue(Stranger.Kind.PROGRESS),
                    "the stranger reached the progress port: " + visited);
            assertEquals(
                    reference.replicaChecksums()[0], r.replicaChecksums()[0], "same parameters as without stranger");
            assertEquals(r.replicaChecksums()[0], r.replicaChecksums()[1]);
            assertTrue(
                    seen.lines.stream().anyMatch(l -> l.startsWith("E 1 20 1280")),
                    "real progress arrived: " + seen.lines);
            assertTrue(
                    seen.lines.stream().noneMatch(l -> l.contains("99999") || l.contains("0.9999")),
                    "nothing the stranger sent reached the user: " + seen.lines);
        });
    }

    @Test
    void underSparkEncryptionTheRingIsEncryptedAndTrainsBitwiseAlike() {
        assertTimeoutPreemptively(Duration.ofSeconds(240), () -> {
            TrainJob.Result plain = train(new Recorder());
            spark.sparkContext().conf().set("spark.network.crypto.enabled", "true");
            try {
                assertTrue(
                        JobSecurity.forJob(
                                        spark.sparkContext().getConf(),
                                        TrainSettings.from(Map.of()).faults())
                                .encrypt(),
                        "ring frames encrypted");
                TrainJob.Result sealed = train(new Recorder());
                assertEquals(plain.replicaChecksums()[0], sealed.replicaChecksums()[0], "AES-GCM ring = plain ring");
            } finally {
                spark.sparkContext().conf().remove("spark.network.crypto.enabled");
            }
        });
    }

    @Test
    void sparkEncryptionWithoutASecretRefusesUnlessPlaintextIsAllowed() {
        org.apache.spark.SparkConf conf = new org.apache.spark.SparkConf(false).set("spark.ssl.enabled", "true");
        var e = assertThrows(
                IllegalArgumentException.class,
                () -> JobSecurity.forJob(conf, TrainSettings.from(Map.of()).faults()));
        assertTrue(
                e.getMessage().contains("spark.authenticate") && e.getMessage().contains("allowPlaintext"),
                e.getMessage());
        JobSecurity open = JobSecurity.forJob(
                conf,
                TrainSettings.from(Map.of("spark.qsync.comm.allowPlaintext", "true"))
                        .faults());
        assertTrue(!open.encrypt() && !open.authenticate());
    }

    /** Visits every TCP port this process listens on, as soon as it appears, until interrupted. */
    private static void scan(Map<Integer, Stranger.Kind> visited) {
        Set<String> started = new HashSet<>();
        while (!Thread.currentThread().isInterrupted()) {
            for (String hostPort : listeningPorts()) {
                if (started.add(hostPort)) {
                    int c = hostPort.lastIndexOf(':');
                    int port = Integer.parseInt(hostPort.substring(c + 1));
                    Thread t = new Thread(() -> {
                        try {
                            visited.put(port, Stranger.visit(hostPort.substring(0, c), port, "stage-1-0", 3000));
                        } catch (IOException e) {
                            // the port closed before the stranger got in (e.g. the ring was complete)
                        }
                    });
                    t.setDaemon(true);
                    t.start();
                }
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** The address of a /proc/net/tcp{,6} hex field (each 32-bit group little-endian); wildcard as loopback. */
    private static String address(String hex) throws java.net.UnknownHostException {
        byte[] b = new byte[hex.length() / 2];
        for (int g = 0; g < b.length; g += 4) {
            for (int k = 0; k < 4; k++) {
                b[g + k] = (byte) Integer.parseInt(hex.substring(2 * (g + 3 - k), 2 * (g + 3 - k) + 2), 16);
            }
        }
        java.net.InetAddress a = java.net.InetAddress.getByAddress(b);
        return a.isAnyLocalAddress() ? "127.0.0.1" : a.getHostAddress();
    }

    /** {@code host:port} of the TCP sockets in LISTEN state that belong to this process (Linux /proc). */
    private static List<String> listeningPorts() {
        Set<String> inodes = new HashSet<>();
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            fds.forEach(fd -> {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (target.startsWith("socket:[")) {
                        inodes.add(target.substring(8, target.length() - 1));
                    }
                } catch (IOException e) {
                    // closed meanwhile
                }
            });
        } catch (IOException e) {
            return List.of();
        }
        List<String> ports = new ArrayList<>();
        for (String table : List.of("/proc/self/net/tcp", "/proc/self/net/tcp6")) {
            try {
                for (String line : Files.readAllLines(Path.of(table))) {
                    String[] f = line.trim().split("\\s+");
                    if (f.length > 9 && f[3].equals("0A") && inodes.contains(f[9])) {
                        String local = f[1];
                        int c = local.indexOf(':');
                        ports.add(address(local.substring(0, c)) + ":" + Integer.parseInt(local.substring(c + 1), 16));
                    }
                }
            } catch (IOException | RuntimeException e) {
                // table missing (no IPv6)
            }
        }
        return ports;
    }
}

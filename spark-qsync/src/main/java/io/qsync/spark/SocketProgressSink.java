package io.qsync.spark;

import io.qsync.runtime.EpochStats;
import io.qsync.runtime.ProgressSink;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * Worker-side (rank 0) sender of progress lines to the driver's {@link ProgressServer}. Best effort: if the driver
 * cannot be reached or the connection breaks, progress is dropped and training continues. Step lines are throttled.
 */
final class SocketProgressSink implements ProgressSink {
    private static final long MIN_INTERVAL_NANOS = 250_000_000L;
    private Socket socket;
    private Writer out;
    private long lastStep;

    /**
     * Connects and answers the server's challenge ({@code key}: the job's progress key, null without authentication).
     */
    SocketProgressSink(String hostPort, int connectTimeoutMillis, byte[] key) {
        int c = hostPort.lastIndexOf(':');
        try {
            socket = new Socket();
            socket.connect(
                    new InetSocketAddress(hostPort.substring(0, c), Integer.parseInt(hostPort.substring(c + 1))),
                    connectTimeoutMillis);
            socket.setSoTimeout(connectTimeoutMillis);
            String challenge = new java.io.BufferedReader(
                            new java.io.InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8))
                    .readLine();
            if (challenge == null || !challenge.startsWith("QSYNC-PROGRESS ")) {
                throw new IOException("not a qsync progress port");
            }
            byte[] nonce =
                    java.util.HexFormat.of().parseHex(challenge.substring(15).trim());
            out = new OutputStreamWriter(socket.getOutputStream(), StandardCharsets.UTF_8);
            out.write("AUTH "
                    + (key == null ? "-" : java.util.HexFormat.of().formatHex(ProgressServer.answer(key, nonce)))
                    + "\n");
            out.flush();
        } catch (IOException | RuntimeException e) {
            close();
        }
    }

    @Override
    public void step(int epoch, int step, int stepsPerEpoch, double loss, double samplesPerSecond) {
        long now = System.nanoTime();
        if (step + 1 < stepsPerEpoch && now - lastStep < MIN_INTERVAL_NANOS) {
            return;
        }
        lastStep = now;
        send(String.format(Locale.ROOT, "S %d %d %d %.6f %.3f%n", epoch, step, stepsPerEpoch, loss, samplesPerSecond));
    }

    @Override
    public void epoch(EpochStats s) {
        send(String.format(
                Locale.ROOT,
                "E %d %d %d %.6f %.6f %.6f %.6f%n",
                s.epoch(),
                s.steps(),
                s.samples(),
                s.meanLoss(),
                s.seconds(),
                s.testAccuracy(),
                s.medianStepMillis()));
    }

    private void send(String line) {
        if (out == null) {
            return;
        }
        try {
            out.write(line);
            out.flush();
        } catch (IOException e) {
            close();
        }
    }

    @Override
    public void close() {
        out = null;
        if (socket != null) {
            try {
                socket.close();
            } catch (IOException e) {
                // best effort
            }
            socket = null;
        }
    }
}

package io.qsync.spark;

import io.qsync.runtime.EpochStats;
import io.qsync.runtime.ProgressSink;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;

/**
 * Driver-side endpoint that receives rank 0's progress lines over TCP and forwards them to a {@link ProgressSink}
 * (e.g. {@link ConsoleProgress}). Best effort: training never waits for it. Close it after the job.
 *
 * <p>Every connection is greeted with a challenge ({@code QSYNC-PROGRESS <nonce>}); with a key (the job runs with
 * {@code spark.authenticate}) it must answer {@code AUTH <HMAC of the nonce>} within {@value #AUTH_MILLIS} ms, or it
 * is dropped and nothing it sent reaches the sink. Connections are served concurrently, so a silent stranger does not
 * hold up the worker's; malformed lines are ignored.
 */
public final class ProgressServer implements AutoCloseable {
    static final int AUTH_MILLIS = 5000;
    private static final java.security.SecureRandom RANDOM = new java.security.SecureRandom();
    private final ServerSocket server;
    private final Thread thread;
    private final ProgressSink sink;
    private final String address;
    private final byte[] key;
    private volatile boolean closed;

    /** Listens on {@code host} (an ephemeral port) and forwards to {@code sink}; no authentication. */
    public ProgressServer(String host, ProgressSink sink) throws IOException {
        this(host, sink, null);
    }

    /** Listens on {@code host} and forwards lines of connections that prove knowledge of {@code key} (null: any). */
    ProgressServer(String host, ProgressSink sink, byte[] key) throws IOException {
        this.sink = sink;
        this.key = key == null ? null : key.clone();
        this.server = new ServerSocket();
        server.bind(new InetSocketAddress(InetAddress.getByName(host), 0));
        server.setSoTimeout(500);
        this.address = host + ":" + server.getLocalPort();
        this.thread = new Thread(this::serve, "qsync-progress-server");
        thread.setDaemon(true);
        thread.start();
    }

    /** The {@code host:port} workers connect to. */
    public String address() {
        return address;
    }

    private void serve() {
        while (!closed) {
            try {
                Socket s = server.accept();
                Thread t = new Thread(() -> serve(s), "qsync-progress-connection");
                t.setDaemon(true);
                t.start();
            } catch (SocketTimeoutException e) {
                // poll the closed flag
            } catch (IOException e) {
                if (!closed) {
                    sleepQuietly();
                }
            }
        }
    }

    private void serve(Socket s) {
        try (s;
                BufferedReader in =
                        new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8))) {
            byte[] nonce = new byte[16];
            RANDOM.nextBytes(nonce);
            Writer out = new OutputStreamWriter(s.getOutputStream(), StandardCharsets.UTF_8);
            out.write("QSYNC-PROGRESS " + HexFormat.of().formatHex(nonce) + "\n");
            out.flush();
            s.setSoTimeout(AUTH_MILLIS);
            String answer = in.readLine();
            if (answer == null || !authentic(answer, nonce)) {
                return; // a stranger: dropped, nothing it sent is used
            }
            s.setSoTimeout(0);
            String line;
            while (!closed && (line = in.readLine()) != null) {
                handle(line);
            }
        } catch (IOException | RuntimeException e) {
            // best effort: a broken connection only loses progress lines
        }
    }

    private boolean authentic(String answer, byte[] nonce) {
        if (!answer.startsWith("AUTH ")) {
            return false;
        }
        if (key == null) {
            return true;
        }
        try {
            return MessageDigest.isEqual(
                    HexFormat.of().parseHex(answer.substring(5).trim()), answer(key, nonce));
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** The answer to {@code nonce} under {@code key}. */
    static byte[] answer(byte[] key, byte[] nonce) {
        return io.qsync.comm.RingAuth.derive(
                key, "qsync-progress-answer", HexFormat.of().formatHex(nonce));
    }

    private void handle(String line) {
        String[] f = line.trim().split(" ");
        try {
            if (f.length == 6 && f[0].equals("S")) {
                sink.step(
                        Integer.parseInt(f[1]),
                        Integer.parseInt(f[2]),
                        Integer.parseInt(f[3]),
                        Double.parseDouble(f[4]),
                        Double.parseDouble(f[5]));
            } else if (f.length == 8 && f[0].equals("E")) {
                sink.epoch(new EpochStats(
                        Integer.parseInt(f[1]),
                        Integer.parseInt(f[2]),
                        Long.parseLong(f[3]),
                        Double.parseDouble(f[4]),
                        Double.parseDouble(f[5]),
                        Double.parseDouble(f[6]),
                        Double.parseDouble(f[7]),
                        null));
            }
        } catch (NumberFormatException e) {
            // malformed: ignored
        }
    }

    private static void sleepQuietly() {
        try {
            Thread.sleep(100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            server.close();
            thread.join(2000);
        } catch (IOException e) {
            // closing anyway
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

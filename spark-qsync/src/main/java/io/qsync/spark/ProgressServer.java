package io.qsync.spark;

import io.qsync.runtime.EpochStats;
import io.qsync.runtime.ProgressSink;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/**
 * Driver-side endpoint that receives rank 0's progress lines over TCP and forwards them to a {@link ProgressSink}
 * (e.g. {@link ConsoleProgress}). Best effort: training never waits for it. Close it after the job.
 */
public final class ProgressServer implements AutoCloseable {
  private final ServerSocket server;
  private final Thread thread;
  private final ProgressSink sink;
  private final String address;
  private volatile boolean closed;

  /** Listens on {@code host} (an ephemeral port) and forwards to {@code sink}. */
  public ProgressServer(String host, ProgressSink sink) throws IOException {
    this.sink = sink;
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
      try (Socket s = server.accept();
          BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8))) {
        String line;
        while ((line = in.readLine()) != null) {
          handle(line);
        }
      } catch (SocketTimeoutException e) {
        // poll the closed flag
      } catch (IOException | RuntimeException e) {
        if (!closed) {
          sink.step(-1, -1, -1, Double.NaN, Double.NaN);
        }
      }
    }
  }

  private void handle(String line) {
    String[] f = line.trim().split(" ");
    if (f.length == 6 && f[0].equals("S")) {
      sink.step(Integer.parseInt(f[1]), Integer.parseInt(f[2]), Integer.parseInt(f[3]), Double.parseDouble(f[4]),
          Double.parseDouble(f[5]));
    } else if (f.length == 8 && f[0].equals("E")) {
      sink.epoch(new EpochStats(Integer.parseInt(f[1]), Integer.parseInt(f[2]), Long.parseLong(f[3]),
          Double.parseDouble(f[4]), Double.parseDouble(f[5]), Double.parseDouble(f[6]), Double.parseDouble(f[7])));
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

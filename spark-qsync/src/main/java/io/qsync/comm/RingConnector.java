package io.qsync.comm;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * Establishes a ring member's two connections with deadlines: connects (with retries) to the right neighbour, accepts
 * the left neighbour, and checks both with a handshake of magic, version, session id, rank and world size, so a stale
 * or misdirected peer is rejected with a message saying what differs.
 */
final class RingConnector {
  private static final int MAGIC = 0x51535943;
  private static final int VERSION = 1;
  private static final int SOCKET_BUFFER_BYTES = 4 << 20;

  private RingConnector() {}

  /** Parses {@code host:port} (IPv6 hosts may be bracketed). */
  static InetSocketAddress parse(String address) {
    int colon = address.lastIndexOf(':');
    if (colon <= 0) {
      throw new IllegalArgumentException("peer address must be host:port, got '" + address + "'");
    }
    String host = address.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    return new InetSocketAddress(host, Integer.parseInt(address.substring(colon + 1)));
  }

  static void tune(SocketChannel ch) throws IOException {
    ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
    ch.setOption(StandardSocketOptions.SO_SNDBUF, SOCKET_BUFFER_BYTES);
    ch.setOption(StandardSocketOptions.SO_RCVBUF, SOCKET_BUFFER_BYTES);
    ch.configureBlocking(false);
  }

  /** Connects to {@code address}, retrying refused connections until the deadline. */
  static SocketChannel connect(String address, long deadline, String who) throws IOException {
    InetSocketAddress target = parse(address);
    IOException last = null;
    while (System.nanoTime() < deadline) {
      SocketChannel ch = SocketChannel.open();
      try {
        ch.setOption(StandardSocketOptions.SO_RCVBUF, SOCKET_BUFFER_BYTES);
        ch.configureBlocking(false);
        if (!ch.connect(target)) {
          await(ch, SelectionKey.OP_CONNECT, deadline);
          if (!ch.finishConnect()) {
            throw new CommException("timed out connecting to " + who + " at " + address);
          }
        }
        tune(ch);
        return ch;
      } catch (IOException e) {
        last = e;
        ch.close();
        long pause = Math.min(TimeUnit.MILLISECONDS.toNanos(100), deadline - System.nanoTime());
        if (pause > 0) {
          try {
            TimeUnit.NANOSECONDS.sleep(pause); // retry back-off: the peer may not listen yet
          } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
            throw new CommException("interrupted while connecting to " + who + " at " + address, ie);
          }
        }
      } catch (CommException e) {
        ch.close();
        throw e;
      }
    }
    throw new CommException("could not connect to " + who + " at " + address + " within the connect timeout ("
        + (last == null ? "timed out" : last.toString()) + "); check that it started and is reachable, or increase "
        + CommConfig.CONNECT_TIMEOUT_KEY);
  }

  /** Accepts one connection before the deadline. */
  static SocketChannel accept(ServerSocketChannel server, long deadline, String who) throws IOException {
    server.configureBlocking(false);
    try (Selector sel = Selector.open()) {
      server.register(sel, SelectionKey.OP_ACCEPT);
      while (true) {
        SocketChannel ch = server.accept();
        if (ch != null) {
          tune(ch);
          return ch;
        }
        long wait = deadline - System.nanoTime();
        if (wait <= 0) {
          throw new CommException("timed out waiting for " + who + " to connect to " + server.getLocalAddress()
              + "; it may have failed to start — increase " + CommConfig.CONNECT_TIMEOUT_KEY
              + " if executors start slowly");
        }
        sel.select(Math.max(1, TimeUnit.NANOSECONDS.toMillis(wait)));
        sel.selectedKeys().clear();
      }
    }
  }

  /** Sends this member's hello: magic, version, rank, size, session id. */
  static void sendHello(SocketChannel ch, int rank, int size, String session, long deadline, String who)
      throws IOException {
    byte[] s = session.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(20 + s.length).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(MAGIC).putInt(VERSION).putInt(rank).putInt(size).putInt(s.length).put(s).flip();
    writeFully(ch, b, deadline, "sending the handshake to " + who);
  }

  /**
   * Reads the left neighbour's hello and answers it; returns normally only if it is the expected rank of the same
   * session and world size.
   */
  static void checkHello(SocketChannel ch, int expectRank, int size, String session, long deadline, String who)
      throws IOException {
    ByteBuffer h = readFully(ch, 20, deadline, "reading the handshake of " + who);
    int magic = h.getInt();
    int version = h.getInt();
    int rank = h.getInt();
    int psize = h.getInt();
    int slen = h.getInt();
    String problem = null;
    if (magic != MAGIC) {
      problem = "a connection that is not a qsync ring member (bad magic) came from " + ch.getRemoteAddress();
    } else if (version != VERSION) {
      problem = "protocol version " + version + " != " + VERSION + " (mixed qsync versions)";
    } else if (slen < 0 || slen > 4096) {
      problem = "bad session id length " + slen;
    } else {
      String ps = StandardCharsets.UTF_8.decode(readFully(ch, slen, deadline, "reading the handshake of " + who))
          .toString();
      if (!ps.equals(session)) {
        problem = "session id '" + ps + "' of the connecting peer (rank " + rank + ") != '" + session
            + "' (a stale worker from another job or attempt)";
      } else if (psize != size || rank != expectRank) {
        problem = "connecting peer is rank " + rank + " of " + psize + " but " + who + " of " + size
            + " was expected (peer address lists differ between workers)";
      }
    }
    byte[] msg = (problem == null ? "" : problem).getBytes(StandardCharsets.UTF_8);
    ByteBuffer reply = ByteBuffer.allocate(8 + msg.length).order(ByteOrder.LITTLE_ENDIAN);
    reply.putInt(problem == null ? 0 : 1).putInt(msg.length).put(msg).flip();
    writeFully(ch, reply, deadline, "answering the handshake of " + who);
    if (problem != null) {
      throw new CommException("rejected " + who + ": " + problem);
    }
  }

  /** Reads the right neighbour's answer to our hello. */
  static void readReply(SocketChannel ch, long deadline, String who) throws IOException {
    ByteBuffer h = readFully(ch, 8, deadline, "waiting for " + who + " to accept the handshake");
    int status = h.getInt();
    int len = h.getInt();
    if (status != 0) {
      String m = len > 0 && len < 65536
          ? StandardCharsets.UTF_8.decode(readFully(ch, len, deadline, "reading the rejection of " + who)).toString()
          : "";
      throw new CommException(who + " rejected this worker: " + m);
    }
  }

  static ByteBuffer readFully(SocketChannel ch, int n, long deadline, String what) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
    while (b.hasRemaining()) {
      if (ch.read(b) < 0) {
        throw new CommException("connection closed by the peer while " + what);
      }
      if (b.hasRemaining()) {
        awaitOrFail(ch, SelectionKey.OP_READ, deadline, what);
      }
    }
    return b.flip();
  }

  static void writeFully(SocketChannel ch, ByteBuffer b, long deadline, String what) throws IOException {
    while (b.hasRemaining()) {
      ch.write(b);
      if (b.hasRemaining()) {
        awaitOrFail(ch, SelectionKey.OP_WRITE, deadline, what);
      }
    }
  }

  private static void awaitOrFail(SocketChannel ch, int ops, long deadline, String what) throws IOException {
    if (!await(ch, ops, deadline)) {
      throw new CommException("timed out " + what + "; increase " + CommConfig.CONNECT_TIMEOUT_KEY
          + " if workers start slowly");
    }
  }

  private static boolean await(SocketChannel ch, int ops, long deadline) throws IOException {
    long wait = deadline - System.nanoTime();
    if (wait <= 0) {
      return false;
    }
    try (Selector sel = Selector.open()) {
      ch.register(sel, ops);
      return sel.select(Math.max(1, TimeUnit.NANOSECONDS.toMillis(wait))) > 0;
    }
  }
}

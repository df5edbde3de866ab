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
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Establishes a ring member's two connections with deadlines: connects (with retries) to the right neighbour and
 * accepts the left neighbour, each checked by a handshake. The acceptor opens with a challenge (magic, version, a
 * fresh nonce); the connector answers with its rank, world size, session id, its own nonce and a MAC over both nonces
 * and those fields; the acceptor replies with its verdict and a MAC over both nonces. With a {@link RingAuth} key both
 * ends thus prove knowledge of the ring's secret without sending it. A connection that is not a ring member (wrong
 * magic, garbage, silence, failed MAC, another session) is dropped and the acceptor keeps waiting for the real left
 * neighbour, so a stranger cannot join or break the ring. A member with the right key but mismatched rank or size is
 * told why, so its set-up fails at once.
 */
final class RingConnector {
    private static final int MAGIC = 0x51535943;
    private static final int VERSION = 2;
    private static final int SOCKET_BUFFER_BYTES = 4 << 20;
    /** Longest a single candidate may take to complete its handshake before it is dropped. */
    private static final long CANDIDATE_NANOS = TimeUnit.SECONDS.toNanos(5);

    private static final int MAX_SESSION_BYTES = 4096;

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
    static SocketChannel connect(String address, Deadline deadline, String who) throws IOException {
        InetSocketAddress target = parse(address);
        IOException last = null;
        while (!deadline.passed()) {
            SocketChannel ch = SocketChannel.open();
            try {
                ch.setOption(StandardSocketOptions.SO_RCVBUF, SOCKET_BUFFER_BYTES);
                ch.configureBlocking(false);
                if (!ch.connect(target)) {
                    await(ch, SelectionKey.OP_CONNECT, deadline, "connecting to " + who);
                    if (!ch.finishConnect()) {
                        throw new CommException("timed out connecting to " + who + " at " + address);
                    }
                }
                tune(ch);
                return ch;
            } catch (IOException e) {
                last = e;
                ch.close();
                long pause = Math.min(100, deadline.sliceMillis("connecting to " + who));
                try {
                    TimeUnit.MILLISECONDS.sleep(pause); // retry back-off: the peer may not listen yet
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new CommException("interrupted while connecting to " + who + " at " + address, ie);
                }
            } catch (CommException e) {
                ch.close();
                throw e;
            }
        }
        throw new CommException("could not connect to " + who + " at " + address + " within the connect timeout ("
                + (last == null ? "timed out" : last.toString())
                + "); check that it started and is reachable, or increase "
                + CommConfig.CONNECT_TIMEOUT_KEY);
    }

    /**
     * Connector side of the handshake with the right neighbour: reads its challenge, sends this member's hello with its
     * MAC and checks the verdict and the acceptor's MAC.
     */
    static void joinRight(
            SocketChannel ch, int rank, int size, String session, RingAuth auth, Deadline deadline, String who)
            throws IOException {
        ByteBuffer c;
        try {
            c = readFully(ch, 8 + RingAuth.NONCE_BYTES, deadline, "reading the challenge of " + who);
        } catch (IOException e) {
            // the peer stopped before the handshake: in a ring whose members do not share the secret it failed
            // authentication with its other neighbour first and closed everything
            throw new CommException(
                    who + " closed the connection before its challenge (it stopped; its own error says why - e.g. it "
                            + "failed authentication: the two workers do not share this job's secret): "
                            + e.getMessage(),
                    e);
        }
        if (c.getInt() != MAGIC) {
            throw new CommException(who + " is not a qsync ring member (bad magic in its challenge)");
        }
        int version = c.getInt();
        if (version != VERSION) {
            throw new CommException(who + " speaks ring protocol version " + version + " but this worker " + VERSION
                    + " (mixed qsync versions)");
        }
        byte[] nA = new byte[RingAuth.NONCE_BYTES];
        c.get(nA);
        byte[] nC = RingAuth.nonce();
        byte[] s = session.getBytes(StandardCharsets.UTF_8);
        byte[] fields = ByteBuffer.allocate(8).putInt(rank).putInt(size).array();
        ByteBuffer b = ByteBuffer.allocate(20 + s.length + RingAuth.NONCE_BYTES + RingAuth.MAC_BYTES)
                .order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(MAGIC)
                .putInt(VERSION)
                .putInt(rank)
                .putInt(size)
                .putInt(s.length)
                .put(s)
                .put(nC)
                .put(auth.mac(bytes("hello"), nA, nC, fields, s))
                .flip();
        ByteBuffer h;
        try {
            writeFully(ch, b, deadline, "sending the handshake to " + who);
            h = readFully(ch, 8, deadline, "waiting for " + who + " to accept the handshake");
        } catch (CommException | IOException e) {
            throw new CommException(
                    who + " dropped the handshake (it failed authentication there: the two workers do "
                            + "not share this job's secret) or the connection broke: " + e.getMessage(),
                    e);
        }
        int status = h.getInt();
        int len = h.getInt();
        if (len < 0 || len > 65536) {
            throw new CommException(who + " sent a malformed handshake reply");
        }
        ByteBuffer rest = readFully(ch, len + RingAuth.MAC_BYTES, deadline, "reading the handshake reply of " + who);
        byte[] msg = new byte[len];
        byte[] mac = new byte[RingAuth.MAC_BYTES];
        rest.get(msg).get(mac);
        if (status != 0) {
            throw new CommException(who + " rejected this worker: " + new String(msg, StandardCharsets.UTF_8));
        }
        if (!auth.verify(mac, bytes("accept"), nA, nC, fields, s)) {
            throw new CommException(who + " failed authentication (it does not know this job's secret)");
        }
    }

    /**
     * Acceptor side: accepts connections until one is the expected left neighbour of this session (and, with a key,
     * proves it knows the secret); drops every other connection and keeps waiting, at most until the deadline.
     */
    static SocketChannel acceptLeft(
            ServerSocketChannel server,
            int expectRank,
            int size,
            String session,
            RingAuth auth,
            Deadline deadline,
            String who)
            throws IOException {
        List<String> dropped = new ArrayList<>();
        while (true) {
            SocketChannel ch = accept(server, deadline, who, dropped);
            String remote = String.valueOf(ch.getRemoteAddress());
            try {
                String problem =
                        checkCandidate(ch, expectRank, size, session, auth, deadline.capped(CANDIDATE_NANOS), who);
                if (problem == null) {
                    return ch;
                }
                dropped.add(remote + ": " + problem);
            } catch (CommException | IOException e) {
                if (deadline.cancelled().getAsBoolean()
                        || Thread.currentThread().isInterrupted()) {
                    ch.close();
                    throw e;
                }
                dropped.add(remote + ": " + e.getMessage());
            }
            ch.close();
        }
    }

    /** Runs the acceptor side with one candidate; null if it is the expected member, else why it was dropped. */
    private static String checkCandidate(
            SocketChannel ch, int expectRank, int size, String session, RingAuth auth, Deadline deadline, String who)
            throws IOException {
        byte[] nA = RingAuth.nonce();
        ByteBuffer c = ByteBuffer.allocate(8 + RingAuth.NONCE_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        c.putInt(MAGIC).putInt(VERSION).put(nA).flip();
        writeFully(ch, c, deadline, "sending the challenge to a candidate for " + who);
        ByteBuffer h = readFully(ch, 20, deadline, "reading the handshake of a candidate for " + who);
        if (h.getInt() != MAGIC) {
            return "not a qsync ring member (bad magic)";
        }
        int version = h.getInt();
        int rank = h.getInt();
        int psize = h.getInt();
        int slen = h.getInt();
        if (version != VERSION) {
            return "protocol version " + version + " != " + VERSION + " (mixed qsync versions)";
        }
        if (slen < 0 || slen > MAX_SESSION_BYTES) {
            return "bad session id length " + slen;
        }
        ByteBuffer rest = readFully(
                ch,
                slen + RingAuth.NONCE_BYTES + RingAuth.MAC_BYTES,
                deadline,
                "reading the handshake of a candidate for " + who);
        byte[] s = new byte[slen];
        byte[] nC = new byte[RingAuth.NONCE_BYTES];
        byte[] mac = new byte[RingAuth.MAC_BYTES];
        rest.get(s).get(nC).get(mac);
        byte[] fields = ByteBuffer.allocate(8).putInt(rank).putInt(psize).array();
        if (!auth.verify(mac, bytes("hello"), nA, nC, fields, s)) {
            return "failed authentication (does not know this job's secret)";
        }
        String ps = new String(s, StandardCharsets.UTF_8);
        if (!ps.equals(session)) {
            return "session id '" + ps + "' != '" + session + "' (a stale worker from another job or attempt)";
        }
        String problem = psize != size || rank != expectRank
                ? "connecting peer is rank " + rank + " of " + psize + " but " + who + " of " + size
                        + " was expected (peer address lists differ between workers)"
                : null;
        byte[] msg = (problem == null ? "" : problem).getBytes(StandardCharsets.UTF_8);
        ByteBuffer reply =
                ByteBuffer.allocate(8 + msg.length + RingAuth.MAC_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        reply.putInt(problem == null ? 0 : 1)
                .putInt(msg.length)
                .put(msg)
                .put(auth.mac(bytes("accept"), nA, nC, fields, s))
                .flip();
        writeFully(ch, reply, deadline, "answering the handshake of " + who);
        return problem;
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** Accepts one connection before the deadline. */
    private static SocketChannel accept(ServerSocketChannel server, Deadline deadline, String who, List<String> dropped)
            throws IOException {
        server.configureBlocking(false);
        try (Selector sel = Selector.open()) {
            server.register(sel, SelectionKey.OP_ACCEPT);
            while (true) {
                SocketChannel ch = server.accept();
                if (ch != null) {
                    tune(ch);
                    return ch;
                }
                if (deadline.passed()) {
                    throw new CommException(
                            "timed out waiting for " + who + " to connect to " + server.getLocalAddress()
                                    + (dropped.isEmpty()
                                            ? ""
                                            : " (dropped " + dropped.size() + " connection(s) that were not it: "
                                                    + String.join("; ", dropped) + ")")
                                    + "; it may have failed to start — increase " + CommConfig.CONNECT_TIMEOUT_KEY
                                    + " if executors start slowly");
                }
                sel.select(deadline.sliceMillis("waiting for " + who));
                sel.selectedKeys().clear();
            }
        }
    }

    static ByteBuffer readFully(SocketChannel ch, int n, Deadline deadline, String what) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
        while (b.hasRemaining()) {
            if (ch.read(b) < 0) {
                throw new CommException("connection closed by the peer while " + what);
            }
            if (b.hasRemaining()) {
                await(ch, SelectionKey.OP_READ, deadline, what);
            }
        }
        return b.flip();
    }

    static void writeFully(SocketChannel ch, ByteBuffer b, Deadline deadline, String what) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
            if (b.hasRemaining()) {
                await(ch, SelectionKey.OP_WRITE, deadline, what);
            }
        }
    }

    /** Waits until {@code ch} is ready for {@code ops}; throws on the deadline or cancellation. */
    private static void await(SocketChannel ch, int ops, Deadline deadline, String what) throws IOException {
        try (Selector sel = Selector.open()) {
            ch.register(sel, ops);
            while (sel.select(deadline.sliceMillis(what)) == 0) {
                if (deadline.passed()) {
                    throw new CommException("timed out " + what + "; increase " + CommConfig.CONNECT_TIMEOUT_KEY
                            + " if workers start slowly");
                }
            }
        }
    }
}

package io.qsync.comm;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.FloatBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

/**
 * {@link Communicator} over a TCP ring: rank {@code r} connects to rank {@code r+1} and accepts rank {@code r-1}.
 * All-reduce is a pipelined ring reduce-scatter plus all-gather (see {@link AllReduceSchedule}); all-gather and barrier
 * travel the same ring. Every connect, accept, read and write is bounded by the {@link CommConfig} timeouts, and a
 * failure or {@link #abort(String)} closes the sockets after telling both neighbours why, so all ranks fail promptly.
 *
 * <p>Construction is two-phase so that the address exchange (in Spark: {@code BarrierTaskContext.allGather}) stays
 * outside this class: {@link #open(String, CommConfig)} binds a listening socket and returns an {@link Endpoint} whose
 * {@link Endpoint#address()} is published to all workers; {@link Endpoint#connect(int, List, String)} then joins the
 * ring. {@link #create} does both given an exchange callback.
 */
public final class TcpRingCommunicator implements Communicator {
    private final int rank;
    private final int size;
    private final CommConfig config;
    /** Connection 0 (barriers, all-gathers, small all-reduces); null for a ring of one. */
    private final RingPipe pipe;

    private final LaneSet lanes;
    private long seq;
    private volatile String abortReason;

    private TcpRingCommunicator(int rank, int size, CommConfig config, RingPipe[] pipes) {
        this.rank = rank;
        this.size = size;
        this.config = config;
        this.pipe = pipes == null ? null : pipes[0];
        this.lanes = pipes == null ? null : new LaneSet(rank, pipes);
    }

    /**
     * Binds a listening socket on an ephemeral port of {@code bindHost} (an address the other workers can reach; a
     * wildcard address advertises this host's address).
     */
    public static Endpoint open(String bindHost, CommConfig config) {
        Objects.requireNonNull(config, "config");
        try {
            ServerSocketChannel server = ServerSocketChannel.open();
            server.setOption(StandardSocketOptions.SO_RCVBUF, 4 << 20);
            server.bind(new InetSocketAddress(bindHost, 0), 8);
            InetAddress a = InetAddress.getByName(bindHost);
            String host = a.isAnyLocalAddress() ? InetAddress.getLocalHost().getHostAddress() : a.getHostAddress();
            if (host.indexOf(':') >= 0) {
                host = "[" + host + "]";
            }
            return new Endpoint(server, host + ":" + ((InetSocketAddress) server.getLocalAddress()).getPort(), config);
        } catch (IOException e) {
            throw new CommException("cannot listen on " + bindHost + ": " + e, e);
        }
    }

    /**
     * Opens an endpoint, exchanges addresses and joins the ring.
     *
     * @param rank      this worker's rank
     * @param size      number of workers
     * @param bindHost  host to listen on (reachable by the other workers)
     * @param sessionId id shared by exactly the workers of this ring (e.g. job id + stage attempt)
     * @param exchange  given this worker's address, returns all workers' addresses indexed by rank (in Spark:
     *                  {@code addr -> BarrierTaskContext.get().allGather(addr)}, whose result is ordered by partition)
     */
    public static TcpRingCommunicator create(
            int rank,
            int size,
            String bindHost,
            String sessionId,
            CommConfig config,
            Function<String, String[]> exchange) {
        if (size == 1) {
            return new TcpRingCommunicator(0, 1, config, null);
        }
        Endpoint ep = open(bindHost, config);
        try {
            String[] peers = exchange.apply(ep.address());
            if (peers == null || peers.length != size) {
                throw new CommException(
                        "address exchange returned " + (peers == null ? "null" : peers.length + " addresses")
                                + " but the ring has " + size + " workers");
            }
            return ep.connect(rank, Arrays.asList(peers), sessionId);
        } finally {
            ep.close();
        }
    }

    /** A bound listening socket waiting for the address exchange; close it if {@link #connect} is never called. */
    public static final class Endpoint implements AutoCloseable {
        private final ServerSocketChannel server;
        private final String address;
        private final CommConfig config;

        private Endpoint(ServerSocketChannel server, String address, CommConfig config) {
            this.server = server;
            this.address = address;
            this.config = config;
        }

        /** The {@code host:port} to publish to the other workers. */
        public String address() {
            return address;
        }

        /**
         * Joins the ring; blocks until both neighbours are connected and verified, at most the connect timeout.
         *
         * @param rank      this worker's rank; {@code peers.get(rank)} must be {@link #address()}
         * @param peers     all workers' addresses indexed by rank
         * @param sessionId id shared by exactly the workers of this ring; a peer with another id is rejected
         * @throws CommException on timeout, a refused connection or a rejected handshake (the message says which)
         */
        public TcpRingCommunicator connect(int rank, List<String> peers, String sessionId) {
            return connect(rank, peers, sessionId, RingAuth.none(), () -> false);
        }

        /**
         * Joins the ring as {@link #connect(int, List, String)}, with authentication and a cancellation check.
         *
         * @param auth      the ring's secret (both ends of every connection prove they know it), or {@link RingAuth#none()}
         * @param cancelled polled at least every 200 ms while waiting (in Spark: the task was killed); set-up then stops
         *                  with a {@link CommException}
         */
        public TcpRingCommunicator connect(
                int rank, List<String> peers, String sessionId, RingAuth auth, BooleanSupplier cancelled) {
            int size = peers.size();
            if (rank < 0 || rank >= size) {
                throw new IllegalArgumentException("rank " + rank + " is outside 0.." + (size - 1));
            }
            if (size == 1) {
                close();
                return new TcpRingCommunicator(0, 1, config, null);
            }
            int r = (rank + 1) % size;
            int l = (rank + size - 1) % size;
            int lanes = config.connections();
            String rightName = "rank " + r + " (" + peers.get(r) + ")";
            String leftName = "left neighbour rank " + l + " (" + peers.get(l) + ")";
            Deadline deadline = Deadline.in(config.connectTimeout().toNanos(), cancelled);
            List<CompletableFuture<SocketChannel>> accepted = new ArrayList<>();
            for (int c = 0; c < lanes; c++) {
                accepted.add(new CompletableFuture<>());
            }
            Thread acceptor = new Thread(
                    () -> {
                        for (int c = 0; c < lanes; c++) {
                            try {
                                accepted.get(c)
                                        .complete(RingConnector.acceptLeft(
                                                server,
                                                l,
                                                size,
                                                laneSession(sessionId, c, lanes),
                                                auth,
                                                deadline,
                                                leftName));
                            } catch (Throwable e) {
                                accepted.get(c).completeExceptionally(e);
                                return;
                            }
                        }
                    },
                    "qsync-ring-accept-" + rank);
            acceptor.setDaemon(true);
            acceptor.start();
            List<SocketChannel> open = new ArrayList<>();
            RingPipe[] pipes = new RingPipe[lanes];
            try {
                for (int c = 0; c < lanes; c++) {
                    String who = "right neighbour " + rightName + (lanes > 1 ? " connection " + (c + 1) : "");
                    SocketChannel right = RingConnector.connect(peers.get(r), deadline, who);
                    open.add(right);
                    RingConnector.joinRight(right, rank, size, laneSession(sessionId, c, lanes), auth, deadline, who);
                    SocketChannel left = awaitAccepted(accepted.get(c), deadline, leftName);
                    open.add(left);
                    pipes[c] = new RingPipe(
                            rank,
                            size,
                            left,
                            "rank " + l + " (" + left.getRemoteAddress() + ")",
                            right,
                            rightName,
                            config,
                            auth.encrypts() ? FrameCipher.forConnection(auth, rank, size, c) : null);
                }
                return new TcpRingCommunicator(rank, size, config, pipes);
            } catch (IOException | RuntimeException e) {
                close(); // stops the acceptor
                open.forEach(TcpRingCommunicator::closeQuietly);
                accepted.forEach(f -> f.thenAccept(TcpRingCommunicator::closeQuietly));
                String msg = e instanceof CommException ? e.getMessage() : e.toString();
                throw new CommException(
                        "rank " + rank + " of " + size + " failed to join the ring (session '" + sessionId
                                + "', connect timeout " + config.connectTimeout() + "): " + msg,
                        e);
            } finally {
                close();
            }
        }

        /** Connection {@code c}'s session: ranks with different {@value CommConfig#CONNECTIONS_KEY} reject each other. */
        private static String laneSession(String sessionId, int c, int lanes) {
            return lanes == 1 ? sessionId : sessionId + " (connection " + (c + 1) + " of " + lanes + ")";
        }

        private static SocketChannel awaitAccepted(
                CompletableFuture<SocketChannel> accepted, Deadline deadline, String who) throws IOException {
            while (true) {
                try {
                    return accepted.get(deadline.sliceMillis("waiting for " + who) + 50, TimeUnit.MILLISECONDS);
                } catch (TimeoutException e) {
                    // poll the cancellation check; the acceptor enforces the deadline itself
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new CommException("interrupted while waiting for " + who, e);
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof IOException io) {
                        throw io;
                    } else if (e.getCause() instanceof Error err) {
                        throw err;
                    }
                    throw (RuntimeException) e.getCause();
                }
            }
        }

        /** Closes the listening socket. Idempotent. */
        @Override
        public void close() {
            closeQuietly(server);
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c != null) {
            try {
                c.close();
            } catch (Exception ignored) {
                // closing
            }
        }
    }

    @Override
    public int rank() {
        return rank;
    }

    @Override
    public int size() {
        return size;
    }

    /** The settings this communicator runs with. */
    public CommConfig config() {
        return config;
    }

    @Override
    public void allReduce(FloatBuffer buf, ReduceOp op) {
        allReduce(new FloatBuffer[] {Objects.requireNonNull(buf, "buf")}, op);
    }

    /**
     * One all-reduce over the parts laid end to end, straight from and into their memory when they are direct
     * native-order buffers (else through a staging buffer). A large vector is cut into one stripe per connection, each
     * reduced by its own thread over its own sockets; the element-wise order of the sums is fixed either way.
     */
    @Override
    public void allReduce(FloatBuffer[] parts, ReduceOp op) {
        Objects.requireNonNull(op, "op");
        long s = ++seq;
        if (pipe == null) {
            checkNotAborted("allReduce #" + s);
            return; // one worker: SUM and AVERAGE (x * 1/1) are the identity
        }
        lanes.allReduce(parts, op, size, s, config.chunkBytes());
    }

    @Override
    public byte[][] allGather(byte[] mine) {
        Objects.requireNonNull(mine, "mine");
        return gather(AllGatherSchedule.OP, mine, "allGather");
    }

    @Override
    public void barrier() {
        gather(AllGatherSchedule.BARRIER_OP, new byte[0], "barrier");
    }

    private byte[][] gather(int op, byte[] mine, String name) {
        long s = ++seq;
        if (pipe == null) {
            checkNotAborted(name + " #" + s);
            return new byte[][] {mine};
        }
        AllGatherSchedule g = new AllGatherSchedule(op, mine, rank, size, s, config.chunkBytes());
        pipe.run(g, name + " #" + s);
        return g.result();
    }

    private void checkNotAborted(String what) {
        if (abortReason != null) {
            throw new CommException(what + " failed at rank 0 of 1: communicator aborted: " + abortReason);
        }
    }

    @Override
    public void abort(String reason) {
        String r = "rank " + rank + " aborted: " + reason;
        if (abortReason == null) {
            abortReason = r;
        }
        if (lanes != null) {
            lanes.abort(r);
        }
    }

    @Override
    public void close() {
        if (lanes != null) {
            lanes.close();
        }
    }

    @Override
    public String toString() {
        return "TcpRingCommunicator[rank " + rank + " of " + size + "]";
    }
}

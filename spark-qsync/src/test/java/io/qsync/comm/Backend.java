package io.qsync.comm;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReferenceArray;

/** The communicator implementations under test, and a harness that runs one worker thread per rank. */
enum Backend {
    LOCAL,
    TCP,
    /**
     * Two levels: ranks split into two "hosts" (the first half and the rest), each an in-JVM group standing in for
     * NCCL, and the TCP ring between the hosts' leaders.
     */
    HIERARCHICAL;

    /** A worker's body; gets its communicator. */
    interface Worker<T> {
        T run(Communicator comm) throws Exception;
    }

    /** The outcome of one worker: a value or a failure, and how long after the start it finished. */
    record Outcome<T>(int rank, T value, Throwable error, long millis) {}

    /** Shared per-run setup: a local group, or an in-memory address exchange for the TCP ring. */
    final class Setup {
        final int size;
        final CommConfig config;
        final LocalGroup group;
        final AtomicReferenceArray<String> addresses;
        final CyclicBarrier exchanged;
        final List<List<Integer>> groups = new ArrayList<>();
        final List<LocalGroup> hostGroups = new ArrayList<>();
        final AtomicReferenceArray<String> leaderAddresses;
        final CyclicBarrier leadersExchanged;

        Setup(int size, CommConfig config) {
            this.size = size;
            this.config = config;
            this.group = Backend.this == LOCAL ? new LocalGroup(size, config) : null;
            this.addresses = new AtomicReferenceArray<>(size);
            this.exchanged = new CyclicBarrier(size);
            int half = (size + 1) / 2;
            groups.add(java.util.stream.IntStream.range(0, half).boxed().toList());
            if (size > half) {
                groups.add(java.util.stream.IntStream.range(half, size).boxed().toList());
            }
            for (List<Integer> g : groups) {
                hostGroups.add(g.size() > 1 ? new LocalGroup(g.size(), config) : null);
            }
            this.leaderAddresses = new AtomicReferenceArray<>(groups.size());
            this.leadersExchanged = new CyclicBarrier(groups.size());
        }

        String[] exchangeLeaders(int leader, String mine) {
            return gather(leaderAddresses, leadersExchanged, leader, mine);
        }

        /** Publishes {@code mine} as entry {@code i} and returns every entry once all have published. */
        private static String[] gather(
                AtomicReferenceArray<String> entries, CyclicBarrier barrier, int i, String mine) {
            entries.set(i, mine);
            try {
                barrier.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException | BrokenBarrierException | TimeoutException e) {
                throw new IllegalStateException("test address exchange failed", e);
            }
            String[] all = new String[entries.length()];
            for (int k = 0; k < all.length; k++) {
                all[k] = entries.get(k);
            }
            return all;
        }

        private Communicator hierarchical(int rank) {
            int gi = rank < groups.get(0).size() ? 0 : 1;
            List<Integer> g = groups.get(gi);
            Communicator local =
                    hostGroups.get(gi) == null ? null : hostGroups.get(gi).join(rank - g.get(0));
            Communicator leaders = g.get(0) == rank && groups.size() > 1
                    ? TcpRingCommunicator.create(
                            gi, groups.size(), "127.0.0.1", "test-leaders", config, a -> exchangeLeaders(gi, a))
                    : null;
            return new HierarchicalCommunicator(rank, size, local, g, leaders);
        }

        /** The address-exchange callback of {@code rank} (an allGather of strings between the worker threads). */
        String[] exchange(int rank, String mine) {
            return gather(addresses, exchanged, rank, mine);
        }

        /** Creates rank's communicator. */
        Communicator create(int rank) {
            if (Backend.this == HIERARCHICAL) {
                return hierarchical(rank);
            }
            return Backend.this == LOCAL
                    ? group.join(rank)
                    : TcpRingCommunicator.create(
                            rank, size, "127.0.0.1", "test-session", config, a -> exchange(rank, a));
        }
    }

    static CommConfig config(Duration connect, Duration io, int chunkBytes) {
        return new CommConfig(connect, io, chunkBytes, 2); // two connections: large collectives are striped
    }

    /**
     * Runs {@code body} on {@code size} worker threads, each with its own communicator; a worker whose body throws
     * aborts its communicator with the exception's message (as the trainer does). Waits for all workers.
     */
    <T> List<Outcome<T>> run(int size, CommConfig config, Worker<T> body) throws Exception {
        Setup setup = new Setup(size, config);
        return runWith(setup, size, body);
    }

    <T> List<Outcome<T>> runWith(Setup setup, int workers, Worker<T> body) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(workers);
        try {
            long start = System.nanoTime();
            List<Future<Outcome<T>>> futures = new ArrayList<>();
            for (int r = 0; r < workers; r++) {
                int rank = r;
                futures.add(pool.submit(() -> {
                    Communicator comm = null;
                    try {
                        comm = setup.create(rank);
                        T v = body.run(comm);
                        return new Outcome<>(rank, v, null, elapsed(start));
                    } catch (Throwable t) {
                        if (comm != null) {
                            comm.abort(String.valueOf(t.getMessage()));
                        }
                        return new Outcome<>(rank, null, t, elapsed(start));
                    } finally {
                        if (comm != null) {
                            comm.close();
                        }
                    }
                }));
            }
            List<Outcome<T>> out = new ArrayList<>();
            for (Future<Outcome<T>> f : futures) {
                out.add(f.get());
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    private static long elapsed(long start) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    }

    /** Returns the values, rethrowing the first failure. */
    static <T> List<T> values(List<Outcome<T>> outcomes) {
        List<T> v = new ArrayList<>();
        for (Outcome<T> o : outcomes) {
            if (o.error() != null) {
                throw new AssertionError("rank " + o.rank() + " failed: " + o.error(), o.error());
            }
            v.add(o.value());
        }
        return v;
    }
}

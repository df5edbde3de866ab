package io.qsync.spark;

import io.qsync.comm.Communicator;
import io.qsync.comm.HierarchicalCommunicator;
import io.qsync.comm.HostLayout;
import io.qsync.comm.RingAuth;
import io.qsync.comm.TcpRingCommunicator;
import io.qsync.runtime.Backends;
import io.qsync.runtime.TrainingBackend;
import io.qsync.spark.devices.WorkerDevice;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

/**
 * Builds a barrier task's {@link Communicator}: every task publishes its ring address and what it can join
 * ({@link HostLayout.Member}) through the barrier stage's {@code allGather}; when the layout puts several workers of a
 * host into one group (NCCL among a host's GPU workers, {@code spark.qsync.comm.collective}), each group's leader
 * publishes the group's id in a second {@code allGather}, the group joins it, and the leaders join a TCP ring among
 * themselves ({@link HierarchicalCommunicator}); otherwise every task joins one TCP ring, as before.
 */
final class JobCommunicators {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(JobCommunicators.class);

    private JobCommunicators() {}

    /**
     * {@link #connect} for the barrier task {@code ctx}: its {@code allGather}, its interruption as the abort check, and
     * a ring session and authentication named by {@code purpose} and the stage attempt, so that two stages of one job
     * (the probe's co-run and the training stage) never join each other's ring.
     *
     * @param purpose {@code "stage"} for training, {@code "probe"} for the probe stage's co-run
     */
    static Communicator connect(
            org.apache.spark.BarrierTaskContext ctx,
            TcpRingCommunicator.Endpoint endpoint,
            String host,
            WorkerDevice device,
            String backend,
            io.qsync.comm.CommConfig config,
            JobSecurity security,
            String purpose) {
        return connect(
                ctx::allGather,
                endpoint,
                ctx.partitionId(),
                host,
                device,
                backend,
                config,
                purpose + "-" + ctx.stageId() + "-" + ctx.stageAttemptNumber(),
                security.ring(ctx.stageId(), ctx.stageAttemptNumber()),
                ctx::isInterrupted);
    }

    /**
     * @param allGather the barrier stage's {@code allGather} (every task calls it the same number of times)
     * @param backend   the name of the backend this worker trains with ({@code spark.qsync.backend}, per rank)
     */
    static Communicator connect(
            Function<String, String[]> allGather,
            TcpRingCommunicator.Endpoint endpoint,
            int rank,
            String host,
            WorkerDevice device,
            String backend,
            io.qsync.comm.CommConfig config,
            String session,
            RingAuth auth,
            BooleanSupplier cancelled) {
        Optional<TrainingBackend> b = resolve(backend);
        int hostDevice = b.map(x -> x.hostCollectiveDevice(device.kind(), device.ordinal()))
                .orElse(-1);
        HostLayout.Member me = new HostLayout.Member(host, hostDevice >= 0, hostDevice);
        String[] published = allGather.apply(endpoint.address() + "\n" + me.encode());
        List<String> addresses = new ArrayList<>();
        List<HostLayout.Member> members = new ArrayList<>();
        for (String p : published) {
            int nl = p.indexOf('\n');
            addresses.add(p.substring(0, nl));
            members.add(HostLayout.Member.decode(p.substring(nl + 1)));
        }
        HostLayout layout = HostLayout.of(members, config.collective());
        if (!layout.hierarchical()) {
            return endpoint.connect(rank, addresses, session, auth, cancelled);
        }
        if (rank == 0) {
            LOG.info("qsync gradient exchange: {}", layout.describe());
        }
        List<Integer> group = layout.groupOf(rank);
        boolean leader = layout.isLeader(rank);
        String myId = leader && group.size() > 1
                ? Base64.getEncoder()
                        .encodeToString(b.orElseThrow()
                                .newHostCollectiveId()
                                .orElseThrow(() -> new IllegalStateException("rank " + rank + " offered a host "
                                        + "collective but cannot create one; set spark.qsync.comm.collective=ring")))
                : "";
        String[] ids = allGather.apply(myId);
        Communicator local = null;
        Communicator leaders = null;
        try {
            if (group.size() > 1) {
                byte[] id = Base64.getDecoder().decode(ids[group.get(0)]);
                local = b.orElseThrow()
                        .joinHostCollective(id, group.indexOf(rank), group.size(), device.ordinal(), config);
            }
            List<Integer> leaderRanks = layout.leaders();
            if (leader && leaderRanks.size() > 1) {
                List<String> leaderAddresses =
                        leaderRanks.stream().map(addresses::get).toList();
                leaders = endpoint.connect(
                        leaderRanks.indexOf(rank), leaderAddresses, session + "-leaders", auth, cancelled);
            }
            return new HierarchicalCommunicator(rank, published.length, local, group, leaders);
        } catch (RuntimeException e) {
            if (local != null) {
                local.abort("rank " + rank + " could not join the job's communicators: " + e.getMessage());
                local.close();
            }
            throw e;
        }
    }

    /** The backend, if it resolves in this process. */
    private static Optional<TrainingBackend> resolve(String name) {
        try {
            return Optional.of(Backends.select(name));
        } catch (RuntimeException e) { // the worker reports the backend problem itself when it opens its engine
            return Optional.empty();
        }
    }
}

package io.qsync.comm;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * How the workers of one job are grouped for the gradient exchange: the workers of a host that can share a host
 * collective (NCCL among GPU workers, each on its own device) form one group, every other worker is a group of its
 * own, and the first worker of each group (its leader) joins the TCP ring among leaders. Every worker builds the same
 * layout from every worker's {@link Member} (exchanged through the barrier stage).
 *
 * @param members every worker's facts, by rank
 * @param groups  the groups, each its ranks in ascending order; groups ordered by their first rank
 */
public record HostLayout(List<Member> members, List<List<Integer>> groups) {

    /**
     * What a worker says about itself.
     *
     * @param host     its host (address without port)
     * @param eligible whether its backend offers a host collective it can join
     * @param device   the device it would join with (its GPU ordinal for NCCL), or -1
     */
    public record Member(String host, boolean eligible, int device) {
        /** A one-line encoding for the barrier stage's {@code allGather}. */
        public String encode() {
            return host + "\t" + eligible + "\t" + device;
        }

        /** Reads {@link #encode()}'s output. */
        public static Member decode(String s) {
            String[] f = s.split("\t", -1);
            if (f.length != 3) {
                throw new IllegalArgumentException("not a worker description: '" + s + "'");
            }
            return new Member(f[0], Boolean.parseBoolean(f[1]), Integer.parseInt(f[2]));
        }

        /** {@link #encode()} as UTF-8 bytes. */
        public byte[] bytes() {
            return encode().getBytes(StandardCharsets.UTF_8);
        }
    }

    /** Copies the lists. */
    public HostLayout {
        members = List.copyOf(members);
        groups = groups.stream().map(List::copyOf).toList();
    }

    /**
     * Groups {@code members} as {@code mode} asks.
     *
     * @throws IllegalArgumentException for {@link HostCollective#NCCL} when a host with several workers cannot share
     *                                  a host collective (the message names the workers and {@value HostCollective#KEY})
     */
    public static HostLayout of(List<Member> members, HostCollective mode) {
        Map<String, List<Integer>> byHost = new LinkedHashMap<>();
        for (int r = 0; r < members.size(); r++) {
            byHost.computeIfAbsent(members.get(r).host(), h -> new ArrayList<>())
                    .add(r);
        }
        List<List<Integer>> groups = new ArrayList<>();
        for (Map.Entry<String, List<Integer>> e : byHost.entrySet()) {
            List<Integer> ranks = e.getValue();
            String why = ranks.size() < 2 || mode == HostCollective.RING ? "" : whyNot(members, ranks);
            if (mode == HostCollective.NCCL && !why.isEmpty()) {
                throw new IllegalArgumentException(HostCollective.KEY + "=nccl: the workers " + ranks + " on host "
                        + e.getKey() + " cannot share a host collective (" + why + "); set " + HostCollective.KEY
                        + "=auto (NCCL where possible, the TCP ring elsewhere) or ring");
            }
            if (ranks.size() >= 2 && mode != HostCollective.RING && why.isEmpty()) {
                groups.add(ranks);
            } else {
                ranks.forEach(r -> groups.add(List.of(r)));
            }
        }
        groups.sort((a, b) -> Integer.compare(a.get(0), b.get(0)));
        return new HostLayout(members, groups);
    }

    private static String whyNot(List<Member> members, List<Integer> ranks) {
        Set<Integer> devices = new HashSet<>();
        for (int r : ranks) {
            Member m = members.get(r);
            if (!m.eligible() || m.device() < 0) {
                return "rank " + r + " cannot join one (not a GPU worker of a backend with a host collective)";
            }
            if (!devices.add(m.device())) {
                return "two workers share device " + m.device();
            }
        }
        return "";
    }

    /** Whether any group has several workers (else the plain TCP ring serves everyone). */
    public boolean hierarchical() {
        return groups.stream().anyMatch(g -> g.size() > 1);
    }

    /** The group of {@code rank}. */
    public List<Integer> groupOf(int rank) {
        return groups.stream().filter(g -> g.contains(rank)).findFirst().orElseThrow();
    }

    /** The leaders (each group's first rank), ascending. */
    public List<Integer> leaders() {
        return groups.stream().map(g -> g.get(0)).toList();
    }

    /** Whether {@code rank} leads its group. */
    public boolean isLeader(int rank) {
        return groupOf(rank).get(0) == rank;
    }

    /** A one-line description for the logs, e.g. {@code [0, 1] nccl on host a; [2] ring}. */
    public String describe() {
        StringBuilder b = new StringBuilder();
        for (List<Integer> g : groups) {
            if (b.length() > 0) {
                b.append("; ");
            }
            b.append(g)
                    .append(
                            g.size() > 1
                                    ? " host collective on "
                                            + members.get(g.get(0)).host()
                                    : " ring only");
        }
        return b + "; TCP ring among leaders " + leaders();
    }
}

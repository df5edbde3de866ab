package io.qsync.comm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qsync.comm.HostLayout.Member;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which workers share a host collective and which join the TCP ring among leaders. */
class HostLayoutTest {
    private static Member gpu(String host, int device) {
        return new Member(host, true, device);
    }

    private static Member cpu(String host) {
        return new Member(host, false, -1);
    }

    @Test
    void gpuWorkersOfOneHostShareACollectiveAndTheirLeadersFormTheRing() {
        // ranks 0 and 2 on host a, 1 and 3 on host b (Spark may interleave hosts)
        HostLayout l = HostLayout.of(List.of(gpu("a", 0), gpu("b", 0), gpu("a", 1), gpu("b", 1)), HostCollective.AUTO);
        assertEquals(List.of(List.of(0, 2), List.of(1, 3)), l.groups());
        assertEquals(List.of(0, 1), l.leaders());
        assertTrue(l.hierarchical());
        assertTrue(l.isLeader(1) && !l.isLeader(3));
        assertEquals(List.of(1, 3), l.groupOf(3));
        assertTrue(l.describe().contains("[0, 2] host collective on a"), l.describe());
    }

    @Test
    void aHostWithACpuWorkerOrASharedGpuStaysOnTheRing() {
        HostLayout l = HostLayout.of(
                List.of(gpu("a", 0), cpu("a"), gpu("b", 0), gpu("b", 0), gpu("c", 0), gpu("c", 1)),
                HostCollective.AUTO);
        assertEquals(List.of(List.of(0), List.of(1), List.of(2), List.of(3), List.of(4, 5)), l.groups());
        assertEquals(List.of(0, 1, 2, 3, 4), l.leaders());
    }

    @Test
    void ringModeAndSingleWorkerHostsNeedNoHostCollective() {
        assertFalse(HostLayout.of(List.of(gpu("a", 0), gpu("a", 1)), HostCollective.RING)
                .hierarchical());
        assertFalse(HostLayout.of(List.of(gpu("a", 0), gpu("b", 0)), HostCollective.NCCL)
                .hierarchical());
    }

    @Test
    void ncclModeNamesTheHostThatCannotAndTheSetting() {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> HostLayout.of(List.of(gpu("a", 0), gpu("a", 0)), HostCollective.NCCL));
        assertTrue(e.getMessage().contains("two workers share device 0"), e.getMessage());
        assertTrue(e.getMessage().contains(HostCollective.KEY + "=auto"), e.getMessage());
        e = assertThrows(
                IllegalArgumentException.class,
                () -> HostLayout.of(List.of(gpu("a", 0), cpu("a")), HostCollective.NCCL));
        assertTrue(e.getMessage().contains("rank 1 cannot join one"), e.getMessage());
    }

    @Test
    void membersTravelAsOneLineAndTheSettingParses() {
        Member m = new Member("10.0.0.7", true, 3);
        assertEquals(m, Member.decode(m.encode()));
        assertEquals(HostCollective.NCCL, HostCollective.parse(" Nccl "));
        assertEquals(HostCollective.AUTO, HostCollective.parse(null));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HostCollective.parse("mpi"));
        assertTrue(e.getMessage().contains(HostCollective.KEY), e.getMessage());
    }
}

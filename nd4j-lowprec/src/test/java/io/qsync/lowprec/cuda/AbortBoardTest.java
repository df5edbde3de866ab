package io.qsync.lowprec.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The abort notice between the ranks of one host, on real files (no GPU needed). */
class AbortBoardTest {
    @TempDir
    Path root;

    @Test
    void aRanksNoticeReachesTheOthersOfTheSameIdOnly() throws Exception {
        byte[] id = new byte[NcclGroup.ID_BYTES];
        id[5] = 42;
        byte[] other = id.clone();
        other[6] = 1;
        AbortBoard r0 = AbortBoard.of(id, 0, root);
        AbortBoard r1 = AbortBoard.of(id, 1, root);
        AbortBoard stranger = AbortBoard.of(other, 0, root);
        assertNull(r0.peerNotice());
        r1.post("out of device memory");
        r1.post("a second reason"); // the first notice stays
        assertEquals("rank 1: out of device memory", r0.peerNotice());
        assertNull(r1.peerNotice(), "a rank does not read its own notice");
        assertNull(stranger.peerNotice(), "another communicator's board");
        r0.leave(); // not empty: stays
        r1.leave(); // posted: keeps its notice for late readers
        assertEquals("rank 1: out of device memory", r0.peerNotice());
        AbortBoard s1 = AbortBoard.of(other, 1, root);
        s1.leave();
        stranger.leave();
        try (var dirs = Files.list(root)) {
            assertEquals(1, dirs.count(), "only the board with a notice is left");
        }
        assertFalse(Files.exists(root.resolve("nothing")));
        assertTrue(Files.isDirectory(root));
    }
}

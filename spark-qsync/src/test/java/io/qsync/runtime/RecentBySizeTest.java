package io.qsync.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class RecentBySizeTest {

    @Test
    void dropsTheLeastRecentlyUsedSizeBeyondCapacityAndHandsItToTheEvictionAction() {
        List<String> evicted = new ArrayList<>();
        RecentBySize<String> kept = new RecentBySize<>(2, evicted::add);
        kept.put(254, "a");
        kept.put(255, "b");
        assertEquals("a", kept.get(254)); // 254 is now the most recently used
        kept.put(64, "c");
        assertEquals(List.of("b"), evicted);
        assertNull(kept.get(255));
        assertEquals(List.of(64, 254), kept.sizes());

        kept.clear();
        assertEquals(List.of("b", "a", "c"), evicted);
        assertTrue(kept.isEmpty());
    }

    @Test
    void refusesACapacityBelowOne() {
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> new RecentBySize<String>(0, s -> {}));
        assertTrue(e.getMessage().contains("at least 1"), e.getMessage());
    }
}

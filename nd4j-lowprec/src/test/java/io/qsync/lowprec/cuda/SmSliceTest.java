package io.qsync.lowprec.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** Slice sizes at each architecture's SM granularity (plain arithmetic; runs everywhere). */
class SmSliceTest {
    @Test
    void hopperSlicesAreMultiplesOfEight() {
        assertEquals(32, SmSlice.smCount(132, 9, 0.25)); // 33 rounds down to 32
        assertEquals(96, SmSlice.smCount(132, 9, 0.75)); // 99 rounds down to 96
        assertEquals(8, SmSlice.smCount(132, 9, 0.01)); // never below the smallest group
        assertEquals(132, SmSlice.smCount(132, 9, 1.0));
    }

    @Test
    void ampereSlicesAreEvenAndAtLeastFour() {
        assertEquals(26, SmSlice.smCount(108, 8, 0.25)); // 27 rounds down to 26
        assertEquals(4, SmSlice.smCount(108, 8, 0.01));
    }

    @Test
    void theDriversReportedAlignmentAndMinimumWin() {
        assertEquals(30, SmSlice.smCount(132, 6, 12, 0.25)); // 33 rounds down to a multiple of 6
        assertEquals(12, SmSlice.smCount(132, 6, 12, 0.05)); // never below the reported minimum
    }

    @Test
    void aShareOutsideZeroToOneIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> SmSlice.smCount(132, 9, 0));
        assertThrows(IllegalArgumentException.class, () -> SmSlice.smCount(132, 9, 1.5));
    }
}

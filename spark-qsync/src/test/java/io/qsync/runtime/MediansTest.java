package io.qsync.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The median of odd and even counts, leaving the samples as they were. */
class MediansTest {
    @Test
    void middleValueOrMeanOfTheTwoMiddleOnes() {
        double[] odd = {9, 1, 5};
        assertEquals(5, Medians.of(odd));
        assertArrayEquals(new double[] {9, 1, 5}, odd, "the samples are not sorted in place");
        assertEquals(3.5, Medians.of(new double[] {7, 1, 3, 4}));
    }
}

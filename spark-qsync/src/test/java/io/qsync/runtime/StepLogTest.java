package io.qsync.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class StepLogTest {
    @Test
    void rowFormatsTheRangeSpaceSeparatedWithADecimalPoint() {
        float[] v = {9f, 1.234f, 25.5f, 0.0075f, 7f};
        assertEquals("1.23 25.50 0.01", StepLog.row(v, 1, 4, "%.2f"));
        assertEquals("25.500", StepLog.row(v, 2, 3, "%.3f"));
        assertEquals("", StepLog.row(v, 3, 3, "%.2f"));
    }
}

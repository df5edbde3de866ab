package io.qsync.comm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CommConfigTest {
    @Test
    void invalidSettingsNameTheSparkKey() {
        Duration s = Duration.ofSeconds(1);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new CommConfig(Duration.ZERO, s, 4096))
                .getMessage()
                .contains(CommConfig.CONNECT_TIMEOUT_KEY));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new CommConfig(s, Duration.ofSeconds(-1), 4096))
                .getMessage()
                .contains(CommConfig.IO_TIMEOUT_KEY));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new CommConfig(s, s, 4097))
                .getMessage()
                .contains(CommConfig.CHUNK_BYTES_KEY));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new CommConfig(s, null, 4096))
                .getMessage()
                .contains(CommConfig.IO_TIMEOUT_KEY));
    }

    @Test
    void readsSparkKeysWithDefaults() {
        Map<String, String> conf = Map.of(
                CommConfig.IO_TIMEOUT_KEY,
                "90s",
                CommConfig.CHUNK_BYTES_KEY,
                "262144",
                CommConfig.CONNECT_TIMEOUT_KEY,
                "1500ms");
        CommConfig c = CommConfig.fromLookup(conf::get);
        assertEquals(Duration.ofSeconds(90), c.ioTimeout());
        assertEquals(Duration.ofMillis(1500), c.connectTimeout());
        assertEquals(262144, c.chunkBytes());
        assertEquals(CommConfig.defaults(), CommConfig.fromLookup(k -> null));
        assertTrue(assertThrows(
                        IllegalArgumentException.class,
                        () -> CommConfig.fromLookup(Map.of(CommConfig.IO_TIMEOUT_KEY, "soon")::get))
                .getMessage()
                .contains(CommConfig.IO_TIMEOUT_KEY));
    }
}

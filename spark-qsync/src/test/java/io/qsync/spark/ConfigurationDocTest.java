package io.qsync.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigurationDocTest {

    @Test
    void docsAreGeneratedFromCode() throws IOException {
        Path doc = Path.of("..", "docs", "configuration.md");
        String expected = QSyncConf.markdown();
        if (Boolean.getBoolean("qsync.regenerateDocs")) {
            Files.writeString(doc, expected);
        }
        assertEquals(
                expected,
                Files.readString(doc),
                "docs/configuration.md is stale: run mvn -pl spark-qsync test -Dtest=ConfigurationDocTest "
                        + "-Dqsync.regenerateDocs=true");
    }

    @Test
    void badValuesNameTheSetting() {
        var e = assertThrows(
                IllegalArgumentException.class, () -> TrainSettings.from(Map.of("spark.qsync.batchSize", "0")));
        assertTrue(e.getMessage().contains("spark.qsync.batchSize"), e.getMessage());
        var t = assertThrows(
                IllegalArgumentException.class, () -> TrainSettings.from(Map.of("spark.qsync.comm.ioTimeout", "soon")));
        assertTrue(t.getMessage().contains("spark.qsync.comm.ioTimeout"), t.getMessage());
        assertEquals(
                "invalid spark.qsync.comm.ioTimeout=soon: must be a positive duration such as 500ms, 30s or 2m",
                t.getMessage());
        assertEquals(
                java.util.List.of("spark.qsync.batchsize"),
                QSyncConf.unknownKeys(
                        Map.of("spark.qsync.batchsize", "64", "spark.qsync.epochs", "2", "spark.app", "x")));
        assertEquals(
                128,
                TrainSettings.from(Map.of("spark.qsync.batchsize", "64"))
                        .runtime()
                        .globalBatchSize(),
                "an unknown key is warned about and ignored");
        TrainSettings ok =
                TrainSettings.from(Map.of("spark.qsync.comm.ioTimeout", "1500ms", "spark.qsync.epochs", "3"));
        assertEquals(1500, ok.comm().ioTimeout().toMillis());
        assertEquals(3, ok.runtime().epochs());
    }
}

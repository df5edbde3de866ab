package io.qsync.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProfileAndIndicatorCommandTest {

    private static String run(String... args) {
        return CliRunner.run(args);
    }

    @Test
    void profileThenIndicatorEndToEnd(@TempDir Path dir) throws Exception {
        run(
                "profile-stats",
                "--model",
                "cnn",
                "--batches",
                "2",
                "--batch-size",
                "16",
                "--hutchinson",
                "2",
                "--out",
                dir.toString());
        assertTrue(Files.exists(dir.resolve("stats.json")) && Files.exists(dir.resolve("graph.json")));
        String out = run(
                "indicator",
                "--stats",
                dir.resolve("stats.json").toString(),
                "--graph",
                dir.resolve("graph.json").toString(),
                "--precisions",
                "INT8,FP8_E4M3,FP32");
        JsonNode json = new ObjectMapper().readTree(out);
        for (String ind : new String[] {"gvar", "wvar", "hess"}) {
            for (String layer : new String[] {"conv_0", "conv_1", "dense_0"}) {
                JsonNode row = json.path(ind).path(layer);
                assertEquals(0.0, row.path("FP32").asDouble(-1), ind + " " + layer);
                assertTrue(row.path("INT8").asDouble() > 0, ind + " " + layer + ": " + row);
                assertTrue(row.path("FP8_E4M3").asDouble() > 0, ind + " " + layer + ": " + row);
            }
        }
    }
}

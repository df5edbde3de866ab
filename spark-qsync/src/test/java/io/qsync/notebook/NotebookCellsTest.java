package io.qsync.notebook;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The Java notebook's code cells pass, cell by cell, in JShell. With {@code -Dqsync.notebook.write=true} the run's
 * outputs are written to {@code notebooks/executed/} (the committed executed copy).
 */
class NotebookCellsTest {
    private static final Path NOTEBOOK = Path.of("..", "notebooks", "fashion-mnist-qsync-java.ipynb");

    @Test
    void javaNotebookCellsRun() throws Exception {
        JsonNode executed = assertTimeoutPreemptively(Duration.ofMinutes(10), () -> {
            try (NotebookRunner runner = new NotebookRunner()) {
                return runner.run(NOTEBOOK);
            }
        });
        String text = executed.toString();
        assertTrue(text.contains("test accuracy: "), "the evaluation cell printed the accuracy");
        assertTrue(
                text.contains("T4: {") && text.contains("FP16") && text.contains("FP32"),
                "the plan mixes precisions: " + text);
        assertTrue(text.contains("test accuracy with the plan: "), "the planned model was trained and evaluated");
        if (Boolean.getBoolean("qsync.notebook.write")) {
            NotebookRunner.write(executed, NOTEBOOK.resolveSibling("executed").resolve(NOTEBOOK.getFileName()));
        }
    }
}

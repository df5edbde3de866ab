package io.qsync.planner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The planner must run without Spark: no source file and no compiled class of io.qsync.planner may reference it. */
class PlannerHasNoSparkImportsTest {

  @Test
  void noSparkInPlannerSourcesOrClasses() throws IOException {
    Path sources = Path.of("src/main/java/io/qsync/planner");
    Path classes = Path.of("target/classes/io/qsync/planner");
    assertTrue(Files.isDirectory(sources), "run from the spark-qsync module directory");
    List<String> offenders = new ArrayList<>();
    int scanned = 0;
    for (Path root : List.of(sources, classes)) {
      if (!Files.isDirectory(root)) {
        continue;
      }
      try (Stream<Path> files = Files.walk(root)) {
        for (Path f : files.filter(Files::isRegularFile).toList()) {
          String text = new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1);
          scanned++;
          if (text.contains("org.apache.spark") || text.contains("org/apache/spark")) {
            offenders.add(f.toString());
          }
        }
      }
    }
    assertTrue(scanned > 10, "scanned only " + scanned + " files");
    assertEquals(List.of(), offenders, "planner files referencing Spark (remove the imports)");
  }
}

package io.qsync.planner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Package boundaries: the planner is plain data (no Spark, DL4J/ND4J, runtime or collectives), and the runtime and the
 * backends know no Spark. Checked in every source file (import statements and fully qualified uses; Javadoc prose
 * may name other packages) and in every compiled class (constant-pool references, which also catch uses the sources
 * spell without an import).
 */
class PlannerHasNoSparkImportsTest {
    private static final List<String> NOT_IN_PLANNER = List.of(
            "org.apache.spark",
            "org.deeplearning4j",
            "org.nd4j",
            "io.qsync.runtime",
            "io.qsync.comm",
            "io.qsync.backend",
            "io.qsync.profile",
            "io.qsync.lowprec.layers");
    private static final List<String> NOT_IN_RUNTIME = List.of("org.apache.spark");

    @Test
    void thePlannerReferencesNoSparkDl4jNd4jRuntimeOrCollectives() throws IOException {
        assertEquals(
                List.of(),
                offenders("io/qsync/planner", NOT_IN_PLANNER),
                "planner files referencing forbidden packages (move the code to io.qsync.profile or pass plain data)");
    }

    @Test
    void theRuntimeAndTheBackendsReferenceNoSpark() throws IOException {
        assertEquals(List.of(), offenders("io/qsync/runtime", NOT_IN_RUNTIME), "runtime files referencing Spark");
        assertEquals(List.of(), offenders("io/qsync/backend", NOT_IN_RUNTIME), "backend files referencing Spark");
    }

    @Test
    void theCheckFindsAForbiddenReference() throws IOException {
        // the same scan over io.qsync.spark must find Spark: proves the scan reads sources and classes at all
        List<String> found = offenders("io/qsync/spark", NOT_IN_RUNTIME);
        assertTrue(
                found.stream().anyMatch(f -> f.contains(".java -> "))
                        && found.stream().anyMatch(f -> f.contains(".class -> ")),
                "the scan must see Spark in io.qsync.spark sources and classes: " + found);
    }

    private static List<String> offenders(String pkgPath, List<String> forbidden) throws IOException {
        Path sources = Path.of("src/main/java").resolve(pkgPath);
        Path classes = Path.of("target/classes").resolve(pkgPath);
        assertTrue(Files.isDirectory(sources), "run from the spark-qsync module directory");
        assertTrue(Files.isDirectory(classes), "compile first: " + classes);
        List<String> out = new ArrayList<>();
        int scanned = 0;
        for (Path root : List.of(sources, classes)) {
            try (Stream<Path> files = Files.walk(root)) {
                for (Path f : files.filter(Files::isRegularFile).toList()) {
                    String text = new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1);
                    scanned++;
                    for (String pkg : forbidden) {
                        if (f.toString().endsWith(".java")
                                ? sourceUses(text, pkg)
                                : text.contains(pkg.replace('.', '/'))) {
                            out.add(f + " -> " + pkg);
                        }
                    }
                }
            }
        }
        assertTrue(scanned > 4, "scanned only " + scanned + " files under " + pkgPath);
        return out;
    }

    /** An import of the package, or a qualified use in code (not in a comment line). */
    private static boolean sourceUses(String text, String pkg) {
        Pattern p = Pattern.compile("^(?!\\s*(\\*|//|/\\*)).*\\b" + Pattern.quote(pkg) + "\\.", Pattern.MULTILINE);
        return p.matcher(text).find();
    }
}

package io.qsync.lowprec.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The GPU-machine scripts must run from any checkout on any GPU machine: no absolute path of the developer's checkout
 * and no library path of one machine's Python environment (they find both at run time).
 */
class DeviceScriptsTest {
    private static final Pattern MACHINE_PATHS =
            Pattern.compile("/work/\\w+|/opt/torch\\S*|python3\\.\\d+/site-packages");

    @Test
    void deviceScriptsHardCodeNoMachinePaths() throws IOException {
        Path dir = Path.of("../benchmarks/gpu");
        assertTrue(Files.isDirectory(dir), "run from the nd4j-lowprec module directory");
        List<String> found = new ArrayList<>();
        int scripts = 0;
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".sh")).toList()) {
                scripts++;
                List<String> lines = Files.readAllLines(f);
                for (int i = 0; i < lines.size(); i++) {
                    Matcher m = MACHINE_PATHS.matcher(lines.get(i));
                    if (m.find()) {
                        found.add(f.getFileName() + ":" + (i + 1) + ": " + m.group());
                    }
                }
            }
        }
        assertTrue(scripts >= 1, "no device scripts found in " + dir.toAbsolutePath());
        assertEquals(List.of(), found, "machine-specific paths in device scripts");
    }
}

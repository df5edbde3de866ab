package io.qsync.lowprec.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Without a GPU nothing can launch here, so this checks what can be checked on the CPU: every kernel that
 * {@link CudaTensorOps} (and its {@link CudaKernelOps}, or {@link TrainKernels} itself) launches is defined in {@code train_kernels.cu} and every defined kernel is used.
 */
class TrainKernelsSourceTest {

    private static Set<String> matches(String text, String regex) {
        Set<String> out = new TreeSet<>();
        Matcher m = Pattern.compile(regex).matcher(text);
        while (m.find()) {
            out.add(m.group(1));
        }
        return out;
    }

    @Test
    void everyLaunchedKernelIsDefinedAndEveryDefinedKernelIsLaunched() throws Exception {
        String cu = TrainKernels.source();
        String java = Files.readString(Path.of("src/main/java/io/qsync/lowprec/cuda/CudaTensorOps.java"))
                + Files.readString(Path.of("src/main/java/io/qsync/lowprec/cuda/CudaKernelOps.java"))
                + Files.readString(Path.of("src/main/java/io/qsync/lowprec/cuda/TrainKernels.java"));
        Set<String> defined = matches(cu, "extern \"C\" __global__ void (\\w+)\\(");
        Set<String> launched =
                matches(java, "(?:(?:k|kernels\\(\\)|module)\\s*\\.)?\\b(?:each|perBlock|launch3?)\\(\\s*\"(\\w+)\"");
        assertTrue(defined.size() >= 30, "kernels found: " + defined);
        assertEquals(defined, launched);
    }
}

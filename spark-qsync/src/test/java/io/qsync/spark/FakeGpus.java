package io.qsync.spark;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Spark's own pattern for testing GPU scheduling without GPUs: a discovery script that reports fake addresses (for
 * {@code spark.worker.resource.gpu.discoveryScript} on {@code local-cluster}; local mode gives tasks no GPU
 * addresses).
 */
public final class FakeGpus {
    private FakeGpus() {}

    /**
     * @param dir       where to write the script
     * @param addresses the GPU addresses it reports
     * @return the executable discovery script
     */
    public static Path script(Path dir, String... addresses) throws IOException {
        Path p = dir.resolve("fake-gpus.sh");
        StringBuilder json = new StringBuilder("{\"name\": \"gpu\", \"addresses\": [");
        for (int i = 0; i < addresses.length; i++) {
            json.append(i == 0 ? "" : ", ").append('"').append(addresses[i]).append('"');
        }
        json.append("]}");
        Files.writeString(p, "#!/usr/bin/env bash\necho '" + json + "'\n");
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        return p;
    }
}

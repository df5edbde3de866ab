package io.qsync.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qsync.planner.cost.DeviceCatalog;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Where {@code plan=auto} takes a device type's profile from: the profiles directory (by file or profile name), the
 * profile measured in the job, the catalog as the last resort, else a one-line error naming the setting.
 */
class ProfileShelfTest {
    @Test
    void measuredProfilesComeFirstThenTheJobsThenTheCatalog(@TempDir Path dir) throws Exception {
        Files.copy(Path.of("..", "benchmarks", "profiles", "h100.json"), dir.resolve("h100.json"));
        Files.writeString(dir.resolve("notes.json"), "{\"not\": \"a profile\"}");
        ProfileShelf shelf = new ProfileShelf(dir.toString());
        assertTrue(shelf.knownTypes().contains("h100"), shelf.knownTypes().toString());
        ProfileShelf.Resolved h100 = shelf.resolve("H100", null, -1, "not attempted");
        assertEquals("profilesDir " + dir.resolve("h100.json"), h100.source());
        assertEquals("H100", h100.profile().name(), "named as the device type");
        String measured = DeviceCatalog.get("L4").withName("box").toJson();
        assertEquals(
                "measured in the job on rank 3",
                shelf.resolve("box", measured, 3, "").source());
        assertEquals(
                "catalog (datasheet estimate)",
                shelf.resolve("t4", null, -1, "no per-layer clock").source());
        IllegalArgumentException none =
                assertThrows(IllegalArgumentException.class, () -> shelf.resolve("tpu-v9", null, -1, "boom"));
        assertTrue(
                none.getMessage().contains("spark.qsync.plan.profilesDir")
                        && none.getMessage().contains("boom"),
                none.getMessage());
    }

    @Test
    void aMissingDirectoryIsNamed() {
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> new ProfileShelf("/no/such/profiles"));
        assertTrue(e.getMessage().startsWith("spark.qsync.plan.profilesDir=/no/such/profiles"), e.getMessage());
    }
}

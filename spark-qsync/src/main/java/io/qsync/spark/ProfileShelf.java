package io.qsync.spark;

import io.qsync.planner.cost.DeviceCatalog;
import io.qsync.planner.cost.DeviceProfile;
import io.qsync.planner.cost.GpuMeasurements;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The device profiles {@code spark.qsync.plan=auto} plans with, by device type: measured profiles from
 * {@code spark.qsync.plan.profilesDir} (found by file name or profile name, case-insensitive), then profiles
 * measured inside the job, then the built-in datasheet catalog as a loud last resort.
 */
final class ProfileShelf {
    private static final Logger LOG = LoggerFactory.getLogger(ProfileShelf.class);

    /**
     * A device type's profile and where it came from.
     *
     * @param profile the profile, named as the type
     * @param source  {@code profilesDir <file>}, {@code measured in the job on rank <r>} or {@code catalog (estimate)}
     */
    record Resolved(DeviceProfile profile, String source) {}

    private final Map<String, DeviceProfile> measured = new LinkedHashMap<>();
    private final Map<String, Path> files = new LinkedHashMap<>();

    /**
     * @param dir the profiles directory, "" for none
     * @throws IllegalArgumentException naming spark.qsync.plan.profilesDir when it is not a directory
     */
    ProfileShelf(String dir) {
        if (dir.isEmpty()) {
            return;
        }
        Path d = Path.of(dir);
        if (!Files.isDirectory(d)) {
            throw new IllegalArgumentException(
                    "spark.qsync.plan.profilesDir=" + dir + " is not a directory (it is read "
                            + "on the driver); give a directory of profile JSON files or leave it empty");
        }
        try (Stream<Path> s = Files.list(d)) {
            for (Path f : s.filter(p -> p.toString().endsWith(".json")).sorted().toList()) {
                DeviceProfile p;
                try {
                    p = GpuMeasurements.loadAny(f);
                } catch (RuntimeException e) {
                    LOG.warn("spark.qsync.plan.profilesDir: skipping {}, not a device profile ({})", f, e.getMessage());
                    continue;
                }
                String base = f.getFileName().toString().replaceFirst("\\.json$", "");
                for (String key : List.of(base, p.name())) {
                    measured.putIfAbsent(key.toLowerCase(Locale.ROOT), p);
                    files.putIfAbsent(key.toLowerCase(Locale.ROOT), f);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list spark.qsync.plan.profilesDir=" + dir, e);
        }
    }

    /** @return the device types (lower case) with a measured profile */
    java.util.Set<String> knownTypes() {
        return java.util.Set.copyOf(measured.keySet());
    }

    /**
     * @param type        a device type
     * @param inJob       the profile measured inside the job for it (JSON), or null
     * @param profileRank the rank that measured it
     * @param whyNot      why measuring failed, or ""
     * @return its profile, named {@code type}
     * @throws IllegalArgumentException naming spark.qsync.plan.profilesDir when no source has one
     */
    Resolved resolve(String type, String inJob, int profileRank, String whyNot) {
        String key = type.toLowerCase(Locale.ROOT);
        if (measured.containsKey(key)) {
            return new Resolved(measured.get(key).withName(type), "profilesDir " + files.get(key));
        }
        if (inJob != null) {
            return new Resolved(
                    DeviceProfile.fromJson(inJob).withName(type), "measured in the job on rank " + profileRank);
        }
        if (DeviceCatalog.names().stream().anyMatch(n -> n.equalsIgnoreCase(type))) {
            LOG.warn(
                    "DEVICE TYPE {} HAS NO MEASURED PROFILE and profiling it in the job failed ({}): planning with the "
                            + "catalog's datasheet ESTIMATE; put a measured profile in spark.qsync.plan.profilesDir "
                            + "(qsync profile-device --name {})",
                    type,
                    whyNot,
                    type);
            return new Resolved(DeviceCatalog.get(type).withName(type), "catalog (datasheet estimate)");
        }
        throw new IllegalArgumentException("device type " + type + " has no profile: none in "
                + "spark.qsync.plan.profilesDir, profiling it in the job failed (" + whyNot + "), and the catalog "
                + "knows only " + DeviceCatalog.names() + "; measure one with `qsync profile-device --name " + type
                + "` into spark.qsync.plan.profilesDir");
    }
}

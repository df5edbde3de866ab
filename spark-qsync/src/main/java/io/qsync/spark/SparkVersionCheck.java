package io.qsync.spark;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/**
 * Start-up check that the running Spark and Scala match what this spark-qsync was built for: the Scala binary
 * version must be equal (Scala 2.12 and 2.13 are not binary compatible: a mismatch fails later with
 * {@code NoSuchMethodError}) and so must Spark's major version. The error names both and the build to use.
 */
public final class SparkVersionCheck {
    private SparkVersionCheck() {}

    /** The running Spark or Scala cannot run this build. */
    public static final class Mismatch extends IllegalStateException {
        private static final long serialVersionUID = 1L;

        Mismatch(String message) {
            super(message);
        }
    }

    /** Fails with {@link Mismatch} if the running Spark/Scala cannot run this build. */
    public static void require() {
        Properties built = new Properties();
        try (InputStream in = SparkVersionCheck.class.getResourceAsStream("build.properties")) {
            if (in == null) {
                return; // classes not built by Maven (an IDE): nothing to compare with
            }
            built.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String message = mismatch(
                built.getProperty("spark.version"),
                built.getProperty("scala.binary"),
                org.apache.spark.package$.MODULE$.SPARK_VERSION(),
                scala.util.Properties$.MODULE$.versionNumberString());
        if (message != null) {
            throw new Mismatch(message);
        }
    }

    /** The error for running a build for {@code builtSpark}/{@code builtScala} on the given versions, or null. */
    static String mismatch(String builtSpark, String builtScala, String runningSpark, String runningScala) {
        String runScalaBinary = majorMinor(runningScala);
        if (builtScala.equals(runScalaBinary) && major(builtSpark).equals(major(runningSpark))) {
            return null;
        }
        String want;
        if (!runningSpark.startsWith("3.")) {
            want = "the build for Spark 4 / Scala 2.13 (the default build; jar spark-qsync-<version>-all.jar)";
        } else if (runScalaBinary.equals("2.12")) {
            want =
                    "the build for Spark 3.5 / Scala 2.12 (mvn -Pspark-3.5; jar spark-qsync-<version>-spark3.5_2.12.jar)";
        } else {
            want = "a build for Spark 3.5 / Scala " + runScalaBinary + " (mvn -Pspark-3.5 -Dscala.binary="
                    + runScalaBinary + ")";
        }
        return "spark-qsync was built for Spark " + majorMinor(builtSpark) + " / Scala " + builtScala
                + " but runs on Spark " + runningSpark + " / Scala " + runningScala + "; use " + want;
    }

    private static String major(String v) {
        int dot = v.indexOf('.');
        return dot < 0 ? v : v.substring(0, dot);
    }

    private static String majorMinor(String v) {
        String[] p = v.split("\\.");
        return p.length < 2 ? v : p[0] + "." + p[1];
    }
}

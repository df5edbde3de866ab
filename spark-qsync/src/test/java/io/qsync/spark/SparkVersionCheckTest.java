package io.qsync.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

class SparkVersionCheckTest {

    @Test
    void theRunningSparkOfTheTestsMatchesTheBuild() {
        SparkVersionCheck.require();
    }

    @Test
    void aMismatchNamesBothVersionsAndTheBuildToUse() {
        assertNull(SparkVersionCheck.mismatch("4.0.1", "2.13", "4.2.0", "2.13.16"));
        assertNull(SparkVersionCheck.mismatch("3.5.7", "2.12", "3.5.1", "2.12.18"));
        assertEquals(
                "spark-qsync was built for Spark 4.0 / Scala 2.13 but runs on Spark 3.5.7 / Scala 2.12.18; use the "
                        + "build for Spark 3.5 / Scala 2.12 (mvn -Pspark-3.5; jar spark-qsync-<version>-spark3.5_2.12.jar)",
                SparkVersionCheck.mismatch("4.0.1", "2.13", "3.5.7", "2.12.18"));
        assertEquals(
                "spark-qsync was built for Spark 3.5 / Scala 2.12 but runs on Spark 4.0.1 / Scala 2.13.16; use the "
                        + "build for Spark 4 / Scala 2.13 (the default build; jar spark-qsync-<version>-all.jar)",
                SparkVersionCheck.mismatch("3.5.7", "2.12", "4.0.1", "2.13.16"));
        assertEquals(
                "spark-qsync was built for Spark 4.0 / Scala 2.13 but runs on Spark 3.5.7 / Scala 2.13.8; use a "
                        + "build for Spark 3.5 / Scala 2.13 (mvn -Pspark-3.5 -Dscala.binary=2.13)",
                SparkVersionCheck.mismatch("4.0.1", "2.13", "3.5.7", "2.13.8"));
    }
}

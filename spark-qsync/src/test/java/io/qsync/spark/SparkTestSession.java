package io.qsync.spark;

import org.apache.spark.sql.SparkSession;

/** A local[2] SparkSession configured as the library expects (Kryo with the ND4J registrator, fast barrier check). */
final class SparkTestSession {
    private SparkTestSession() {}

    static SparkSession start(String app) {
        return SparkSession.builder()
                .master("local[2]")
                .appName(app)
                .config("spark.ui.enabled", "false")
                .config("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
                .config("spark.kryo.registrator", QSyncKryoRegistrator.class.getName())
                .config("spark.scheduler.barrier.maxConcurrentTasksCheck.maxFailures", "1")
                .config("spark.scheduler.barrier.maxConcurrentTasksCheck.interval", "1s")
                .config("spark.sql.shuffle.partitions", "2")
                .getOrCreate();
    }
}

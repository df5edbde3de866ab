package io.qsync.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.qsync.spark.TrainSettings;
import java.util.Map;
import org.apache.spark.SparkConf;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Which value wins in {@code qsync train}: flags, then --conf, then spark-submit's conf, then the CLI's defaults. */
class TrainSettingsPrecedenceTest {

    private static Map<String, String> settings(SparkConf sparkConf, String... args) {
        TrainCommand cmd = new TrainCommand();
        new CommandLine(cmd).parseArgs(args);
        return cmd.settings(io.qsync.spark.QSyncConf.from(sparkConf));
    }

    @Test
    void explicitFlagsWinAndDefaultsNeverOverrideASetKey() {
        SparkConf submitted = new SparkConf(false)
                .set("spark.qsync.epochs", "2")
                .set("spark.qsync.batchSize", "96")
                .set("spark.qsync.data.dir", "/data/fm")
                .set("spark.qsync.comm.ioTimeout", "7s");
        TrainSettings none = TrainSettings.from(settings(submitted));
        assertEquals(2, none.runtime().epochs());
        assertEquals(96, none.runtime().globalBatchSize());
        assertEquals(7000, none.comm().ioTimeout().toMillis());
        assertEquals("/data/fm", settings(submitted).get("spark.qsync.data.dir"));

        Map<String, String> flags =
                settings(submitted, "--epochs", "3", "--conf", "spark.qsync.batchSize=32", "--data-dir", "/elsewhere");
        assertEquals("3", flags.get("spark.qsync.epochs"));
        assertEquals("32", flags.get("spark.qsync.batchSize"));
        assertEquals("/elsewhere", flags.get("spark.qsync.data.dir"));
        assertEquals("64", settings(new SparkConf(false)).get("spark.qsync.batchSize"), "the CLI's default batch");
        assertEquals(
                1, TrainSettings.from(settings(new SparkConf(false))).runtime().epochs());
    }

    @Test
    void planAutoFromTheFlagWritesNextToTheModelUnlessADirectoryIsSet() {
        Map<String, String> auto = settings(new SparkConf(false), "--plan", "auto", "--output", "out/m.zip");
        assertEquals("auto", auto.get("spark.qsync.plan"));
        assertEquals(
                java.nio.file.Path.of("out/m-plan").toAbsolutePath().toString(), auto.get("spark.qsync.plan.outDir"));
        TrainSettings ts = TrainSettings.from(auto);
        assertEquals(true, ts.autoPlan().auto());
        SparkConf submitted = new SparkConf(false).set("spark.qsync.plan.outDir", "/plans");
        assertEquals("/plans", settings(submitted, "--plan", "auto").get("spark.qsync.plan.outDir"));
        assertEquals(null, settings(new SparkConf(false)).get("spark.qsync.plan.outDir"), "no plan, no directory");
    }
}

package io.qsync.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class TrainCommandTest {

    /** Runs the CLI with {@code args}, asserts exit status 0 and returns what it printed. */
    private static String train(String... args) {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream old = System.out;
        int rc;
        try {
            System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
            rc = new CommandLine(new QSyncCli()).execute(args);
        } finally {
            System.setOut(old);
        }
        String out = buf.toString(StandardCharsets.UTF_8);
        assertEquals(0, rc, out);
        return out;
    }

    @Test
    void trainsSavesAndReportsOnEmbeddedLocalSpark(@TempDir Path dir) throws Exception {
        Path model = dir.resolve("m.zip");
        String out = train(
                "train", "--master", "local[2]", "--limit", "4000", "--batch-size", "64", "--output", model.toString());
        System.out.println(out);
        assertTrue(out.contains("[epoch 1/1] ["), "progress line printed");
        Matcher m = Pattern.compile("final test accuracy: ([0-9.]+)%").matcher(out);
        assertTrue(m.find(), out);
        double acc = Double.parseDouble(m.group(1));
        assertTrue(acc > 60, "4000 images, 1 epoch: accuracy " + acc + "% should beat 60%");
        assertTrue(Files.size(model) > 10_000);
        MultiLayerNetwork restored = MultiLayerNetwork.load(model.toFile(), true);
        assertTrue(restored.numParams() > 10_000);
    }

    @Test
    void badInputsAreClearErrors() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        CommandLine cl = new CommandLine(new QSyncCli());
        cl.setErr(new java.io.PrintWriter(err, true, StandardCharsets.UTF_8));
        int rc = cl.execute("train", "--data-dir", "/nonexistent/fmnist");
        assertTrue(rc != 0);
        String msg = err.toString(StandardCharsets.UTF_8);
        assertTrue(msg.contains("/nonexistent/fmnist") && msg.contains("dataset-fashion-mnist"), msg);
    }

    /** {@code --model} picks the network the job trains, and the model lands under its own name by default. */
    @Test
    void trainsTheNetworkNamedByModel(@TempDir Path dir) throws Exception {
        Path model = dir.resolve("mlp.zip");
        String out = train(
                "train", "--model", "mlp", "--master", "local[2]", "--limit", "2000", "--output", model.toString());
        MultiLayerNetwork restored = MultiLayerNetwork.load(model.toFile(), true);
        // 784-256-256-10: the MLP, not the demo CNN
        assertEquals(784 * 256 + 256 + 256 * 256 + 256 + 256 * 10 + 10, restored.numParams(), out);
        TrainCommand t = new TrainCommand();
        new CommandLine(t).parseArgs("--model", "vgg-cnn");
        assertEquals(new java.io.File("qsync-out/vgg-cnn.zip"), t.output());
        assertTrue(CliModels.configJson("vgg-cnn", 1, 1e-3).contains("SubsamplingLayer"));
    }

    @Test
    void anUnknownModelNamesTheFlag() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        CommandLine cl = new CommandLine(new QSyncCli());
        cl.setErr(new java.io.PrintWriter(err, true, StandardCharsets.UTF_8));
        int rc = cl.execute("train", "--model", "alexnet", "--limit", "100");
        assertTrue(rc != 0);
        String msg = err.toString(StandardCharsets.UTF_8);
        assertTrue(msg.contains("--model") && msg.contains("alexnet") && msg.contains("vgg-cnn"), msg);
    }
}

package io.qsync.notebook;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;
import jdk.jshell.EvalException;
import jdk.jshell.JShell;
import jdk.jshell.Snippet;
import jdk.jshell.SnippetEvent;
import jdk.jshell.SourceCodeAnalysis;

/**
 * Runs the code cells of a Jupyter notebook written for a Java kernel (JJava) in JShell, cell by cell, as the kernel
 * does: snippets are evaluated in order in one JShell state, in this JVM (JJava evaluates in the kernel's own JVM).
 * Lines starting with {@code %} are JJava magics that fetch dependencies; they are skipped, the classpath of this JVM
 * provides those dependencies. The first rejected snippet or thrown exception stops the run with the cell's number.
 */
final class NotebookRunner implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final JShell shell;

    NotebookRunner() {
        shell = JShell.builder().executionEngine("local").build();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            shell.addToClasspath(entry);
        }
    }

    /** Runs every code cell of {@code notebook}; returns the notebook with each cell's outputs filled in. */
    JsonNode run(Path notebook) throws IOException {
        ObjectNode nb = (ObjectNode) JSON.readTree(notebook.toFile());
        int count = 0;
        for (JsonNode cell : nb.get("cells")) {
            if (!cell.get("cell_type").asText().equals("code")) {
                continue;
            }
            count++;
            String source = join(cell.get("source"));
            ByteArrayOutputStream printed = new ByteArrayOutputStream();
            String value = runCell(count, source, printed);
            ObjectNode c = (ObjectNode) cell;
            c.put("execution_count", count);
            ArrayNode outputs = c.putArray("outputs");
            String text = printed.toString(StandardCharsets.UTF_8);
            if (!text.isEmpty()) {
                ObjectNode o = outputs.addObject().put("output_type", "stream").put("name", "stdout");
                lines(o.putArray("text"), text);
            }
            if (value != null) {
                ObjectNode o =
                        outputs.addObject().put("output_type", "execute_result").put("execution_count", count);
                o.putObject("metadata");
                lines(o.putObject("data").putArray("text/plain"), value);
            }
        }
        return nb;
    }

    /** Evaluates one cell; returns the value of its last expression (as the kernel displays it), or null. */
    private String runCell(int number, String source, OutputStream printed) {
        String code = source.lines().filter(l -> !l.strip().startsWith("%")).collect(Collectors.joining("\n"));
        PrintStream out = System.out;
        System.setOut(new PrintStream(new Tee(out, printed), true, StandardCharsets.UTF_8));
        String value = null;
        try {
            SourceCodeAnalysis analysis = shell.sourceCodeAnalysis();
            String remaining = code;
            while (!remaining.isBlank()) {
                SourceCodeAnalysis.CompletionInfo info = analysis.analyzeCompletion(remaining);
                if (!info.completeness().isComplete()) {
                    throw new AssertionError("cell " + number + ": incomplete code: " + remaining.strip());
                }
                value = null;
                for (SnippetEvent e : shell.eval(info.source())) {
                    check(number, e);
                    boolean expression = e.snippet().kind() == Snippet.Kind.EXPRESSION
                            || e.snippet().subKind() == Snippet.SubKind.TEMP_VAR_EXPRESSION_SUBKIND;
                    if (expression && e.value() != null) {
                        value = e.value();
                    }
                }
                remaining = info.remaining();
            }
        } finally {
            System.out.flush();
            System.setOut(out);
        }
        return value;
    }

    private void check(int number, SnippetEvent e) {
        if (e.causeSnippet() != null && e.snippet() instanceof jdk.jshell.VarSnippet v) {
            throw new AssertionError("cell " + number + " re-declared variable " + v.name()
                    + ", resetting its value (a " + "star import can do this in JShell): import single types");
        }
        if (e.status() == Snippet.Status.RECOVERABLE_DEFINED || e.status() == Snippet.Status.RECOVERABLE_NOT_DEFINED) {
            throw new AssertionError(
                    "cell " + number + ": unresolved " + e.snippet().source().strip());
        }
        if (e.status() == Snippet.Status.REJECTED) {
            String why = shell.diagnostics(e.snippet())
                    .map(d -> d.getMessage(Locale.ROOT))
                    .collect(Collectors.joining("; "));
            throw new AssertionError(
                    "cell " + number + ": rejected: " + e.snippet().source().strip() + " -- " + why);
        }
        if (e.exception() != null) {
            String type = e.exception() instanceof EvalException ee
                    ? ee.getExceptionClassName()
                    : e.exception().getClass().getName();
            throw new AssertionError(
                    "cell " + number + ": " + type + ": " + e.exception().getMessage() + " in "
                            + e.snippet().source().strip(),
                    e.exception());
        }
    }

    private static String join(JsonNode source) {
        if (source.isTextual()) {
            return source.asText();
        }
        StringBuilder sb = new StringBuilder();
        source.forEach(l -> sb.append(l.asText()));
        return sb.toString();
    }

    private static void lines(ArrayNode into, String text) {
        List<String> parts = new ArrayList<>();
        int from = 0;
        for (int i = 0; i < text.length(); i++) {
            if (text.charAt(i) == '\n') {
                parts.add(text.substring(from, i + 1));
                from = i + 1;
            }
        }
        if (from < text.length()) {
            parts.add(text.substring(from));
        }
        parts.forEach(into::add);
    }

    static void write(JsonNode notebook, Path to) throws IOException {
        Files.createDirectories(to.getParent());
        Files.writeString(to, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(notebook) + "\n");
    }

    @Override
    public void close() {
        shell.close();
    }

    /** Writes to two streams. */
    private static final class Tee extends OutputStream {
        private final OutputStream a;
        private final OutputStream b;

        Tee(OutputStream a, OutputStream b) {
            this.a = a;
            this.b = b;
        }

        @Override
        public void write(int x) throws IOException {
            a.write(x);
            b.write(x);
        }

        @Override
        public void write(byte[] buf, int off, int len) throws IOException {
            a.write(buf, off, len);
            b.write(buf, off, len);
        }

        @Override
        public void flush() throws IOException {
            a.flush();
            b.flush();
        }
    }
}

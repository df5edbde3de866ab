package io.qsync.cli;

import io.qsync.data.FashionMnist;
import io.qsync.spark.JobFailures;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.ParseResult;

/**
 * Turns the failures a user can fix (bad settings, a missing dataset, a job that ran out of memory) into one line on
 * standard error, {@code qsync <command>: <message>}, with exit status 2; anything else keeps its stack trace.
 */
final class CliErrors implements IExecutionExceptionHandler {

    @Override
    public int handleExecutionException(Exception ex, CommandLine cmd, ParseResult parsed) throws Exception {
        String line = ex instanceof FashionMnist.DatasetException ? ex.getMessage() : JobFailures.userMessage(ex);
        if (line == null) {
            throw ex;
        }
        cmd.getErr().println("qsync " + cmd.getCommandName() + ": " + line);
        cmd.getErr().flush();
        return 2;
    }
}

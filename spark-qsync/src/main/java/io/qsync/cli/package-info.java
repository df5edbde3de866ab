/** Command-line entry points ({@code spark-submit --class io.qsync.cli.QSyncCli}). */
package io.qsync.cli;

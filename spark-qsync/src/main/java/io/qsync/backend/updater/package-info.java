/**
 * DL4J's update of one iteration read off a network's own updater blocks ({@link
 * io.qsync.backend.updater.UpdaterProgram}), for the backends that run the update themselves with DL4J's semantics and
 * flat layouts.
 */
package io.qsync.backend.updater;

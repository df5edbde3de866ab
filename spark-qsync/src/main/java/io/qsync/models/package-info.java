/** Ready-made DL4J network configurations used by the demo, tests and benchmarks. */
package io.qsync.models;

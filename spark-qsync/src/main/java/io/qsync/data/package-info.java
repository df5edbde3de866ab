/** Datasets: the Fashion-MNIST IDX reader, its Spark {@code Dataset<Row>} form, and DL4J minibatch assembly. */
package io.qsync.data;

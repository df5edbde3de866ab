/**
 * Spark ML API: {@link io.qsync.spark.ml.QSyncClassifier} (an {@code Estimator} that trains a DL4J network with
 * synchronous data-parallel workers) and {@link io.qsync.spark.ml.QSyncClassificationModel} (its {@code Model}),
 * both Pipeline-compatible and persistable with {@code save}/{@code load}.
 */
package io.qsync.spark.ml;

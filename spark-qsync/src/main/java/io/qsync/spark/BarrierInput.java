package io.qsync.spark;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Iterator;
import org.apache.spark.Dependency;
import org.apache.spark.Partitioner;
import org.apache.spark.ShuffleDependency;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.rdd.RDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import scala.Tuple2;
import scala.collection.JavaConverters;

/**
 * Makes the training input fit a barrier stage of {@code numWorkers} tasks. Barrier stages refuse narrow lineages
 * whose RDDs have a different partition count than the stage (union, coalesce, ...: SPARK-24820). Such inputs get a
 * shuffle boundary that keeps every row in its partition and order; inputs with the wrong partition count are
 * repartitioned. With unequal batch weights the rows are dealt to the partitions in those proportions (row i of the
 * input goes to the rank owning {@code i mod Σw}), so that each worker's share of every global batch follows its
 * weight ({@link io.qsync.runtime.ShardSchedule} splits each step in proportion to the partitions).
 */
final class BarrierInput {
    private BarrierInput() {}

    static RDD<Row> prepare(Dataset<Row> data, int numWorkers, java.util.List<Integer> weights) {
        if (!weights.isEmpty() && weights.stream().distinct().count() > 1) {
            return weighted(data.rdd(), numWorkers, weights);
        }
        return prepare(data, numWorkers);
    }

    static RDD<Row> prepare(Dataset<Row> data, int numWorkers) {
        RDD<Row> rdd = data.rdd();
        if (rdd.getNumPartitions() != numWorkers) {
            return data.repartition(numWorkers).rdd();
        }
        if (!uniformWithinStage(rdd)) {
            JavaPairRDD<Integer, Row> keyed = rdd.toJavaRDD()
                    .mapPartitionsWithIndex(BarrierInput::keyByPartition, true)
                    .mapToPair(t -> t);
            return keyed.partitionBy(new IdentityPartitioner(numWorkers))
                    .values()
                    .rdd();
        }
        return rdd;
    }

    /** Rows in each partition of {@code rdd} (one small job; a shuffled input's map output is reused afterwards). */
    static long[] countPerPartition(RDD<Row> rdd) {
        java.util.List<long[]> parts = rdd.toJavaRDD()
                .mapPartitionsWithIndex(
                        (i, rows) -> {
                            long n = 0;
                            for (; rows.hasNext(); rows.next()) {
                                n++;
                            }
                            return java.util.List.of(new long[] {i, n}).iterator();
                        },
                        false)
                .collect();
        long[] counts = new long[rdd.getNumPartitions()];
        for (long[] p : parts) {
            counts[(int) p[0]] = p[1];
        }
        return counts;
    }

    private static RDD<Row> weighted(RDD<Row> rdd, int numWorkers, java.util.List<Integer> weights) {
        int total = weights.stream().mapToInt(Integer::intValue).sum();
        int[] owner = new int[total];
        for (int r = 0, o = 0; r < numWorkers; r++) {
            for (int k = 0; k < weights.get(r); k++) {
                owner[o++] = r;
            }
        }
        JavaPairRDD<Integer, Row> keyed =
                rdd.toJavaRDD().zipWithIndex().mapToPair(t -> new Tuple2<>(owner[(int) (t._2() % total)], t._1()));
        return keyed.partitionBy(new IdentityPartitioner(numWorkers)).values().rdd();
    }

    private static Iterator<Tuple2<Integer, Row>> keyByPartition(Integer index, Iterator<Row> rows) {
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return rows.hasNext();
            }

            @Override
            public Tuple2<Integer, Row> next() {
                return new Tuple2<>(index, rows.next());
            }
        };
    }

    /** True if every RDD reachable through narrow dependencies has the same partition count (Spark's own rule). */
    static boolean uniformWithinStage(RDD<?> rdd) {
        int n = rdd.getNumPartitions();
        Deque<RDD<?>> todo = new ArrayDeque<>();
        todo.push(rdd);
        while (!todo.isEmpty()) {
            RDD<?> r = todo.pop();
            if (r.getNumPartitions() != n) {
                return false;
            }
            for (Dependency<?> d : JavaConverters.seqAsJavaList(r.dependencies())) {
                if (!(d instanceof ShuffleDependency)) {
                    todo.push(d.rdd());
                }
            }
        }
        return true;
    }

    /** Sends key {@code i} to partition {@code i}. */
    private static final class IdentityPartitioner extends Partitioner {
        private static final long serialVersionUID = 1L;
        private final int n;

        IdentityPartitioner(int n) {
            this.n = n;
        }

        @Override
        public int numPartitions() {
            return n;
        }

        @Override
        public int getPartition(Object key) {
            return (Integer) key;
        }
    }
}

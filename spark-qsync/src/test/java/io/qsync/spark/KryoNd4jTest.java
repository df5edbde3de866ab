package io.qsync.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class KryoNd4jTest {

    @Test
    void indArraysSurviveSparksKryoSerializer() {
        SparkSession spark = SparkTestSession.start("kryo-nd4j-test");
        try {
            JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
            List<INDArray> out = jsc.parallelize(List.of(1, 2, 3), 2)
                    .map(i -> Nd4j.linspace(1, 6, 6).reshape(2, 3).muli(i))
                    .repartition(1)
                    .collect();
            double sum = 0;
            for (INDArray a : out) {
                assertEquals(2, a.rows());
                sum += a.sumNumber().doubleValue();
            }
            assertEquals(21.0 * 6, sum, 1e-9);
        } finally {
            spark.stop();
        }
    }
}

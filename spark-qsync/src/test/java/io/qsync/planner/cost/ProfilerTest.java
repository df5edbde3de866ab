package io.qsync.planner.cost;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qsync.lowprec.Precision;
import io.qsync.lowprec.layers.LayerTiming;
import io.qsync.lowprec.layers.SwitchableLayers;
import io.qsync.models.DemoModels;
import io.qsync.planner.graph.LayerGraph;
import io.qsync.planner.replay.PlanGraph;
import io.qsync.planner.replay.PlanGraphs;
import io.qsync.planner.replay.PlanNode;
import java.util.List;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

class ProfilerTest {
  private static final List<Precision> MENU = List.of(Precision.FP32, Precision.INT8);

  private static DataSet batch(int n) {
    var y = Nd4j.zeros(DataType.FLOAT, n, 10);
    for (int k = 0; k < n; k++) {
      y.putScalar(k, k % 10, 1);
    }
    return new DataSet(Nd4j.rand(DataType.FLOAT, n, 784), y);
  }

  private static void check(Model net, PlanGraph g) {
    var before = net.params().dup();
    DeviceProfile p = new Profiler(1, 3).profile("cpu", net, g, batch(8), MENU, 16, 2);
    assertEquals(before, net.params(), "the profiler trains a copy");
    CostModel cm = new CostModel(p);
    for (PlanNode n : g.nodes()) {
      for (Precision q : n.switchable() ? MENU : List.of(Precision.FP32)) {
        boolean measured = p.layers().stream().anyMatch(m -> m.signature().equals(n.signature())
            && m.precision() == q && m.batch() == 8);
        assertTrue(measured, n.id() + " " + q);
        double t = cm.layerSeconds(n.signature(), 8, q, false) + cm.layerSeconds(n.signature(), 8, q, true);
        assertTrue(n.switchable() ? t > 0 : t == 0, n.id() + " " + q + " " + t);
      }
    }
    assertTrue(p.stepOverheads().get(g.fingerprint() + "|8") >= 0);
    assertTrue(p.interconnect().bandwidthBytesPerSec() > 0);
    assertTrue(!LayerTiming.active(), "the profiler switches the timing hook off again");
  }

  @Test
  void profilesAMultiLayerNetworkInTheTrainingContext() {
    MultiLayerNetwork m = new MultiLayerNetwork(DemoModels.fashionCnn(1, 1e-3));
    m.init();
    MultiLayerNetwork net = SwitchableLayers.convert(m);
    check(net, PlanGraphs.of("fashion-cnn", LayerGraph.of(net)));
  }

  @Test
  void profilesAComputationGraph() {
    ComputationGraph g = new ComputationGraph(DemoModels.resnetCnn(1, 1e-3));
    g.init();
    ComputationGraph net = SwitchableLayers.convert(g);
    check(net, PlanGraphs.of("resnet-cnn", LayerGraph.of(net, InputType.convolutionalFlat(28, 28, 1))));
  }
}

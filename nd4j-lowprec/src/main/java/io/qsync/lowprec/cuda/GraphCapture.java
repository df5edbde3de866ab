package io.qsync.lowprec.cuda;

import static org.bytedeco.cuda.global.cudart.cudaGetLastError;
import static org.bytedeco.cuda.global.cudart.cudaGraphDestroy;
import static org.bytedeco.cuda.global.cudart.cudaGraphExecDestroy;
import static org.bytedeco.cuda.global.cudart.cudaGraphInstantiate;
import static org.bytedeco.cuda.global.cudart.cudaGraphLaunch;
import static org.bytedeco.cuda.global.cudart.cudaStreamBeginCapture;
import static org.bytedeco.cuda.global.cudart.cudaStreamCaptureModeThreadLocal;
import static org.bytedeco.cuda.global.cudart.cudaStreamEndCapture;

import io.qsync.lowprec.train.TensorOps;
import java.util.List;
import org.bytedeco.cuda.cudart.CUevent_st;
import org.bytedeco.cuda.cudart.CUgraphExec_st;
import org.bytedeco.cuda.cudart.CUgraph_st;

/**
 * {@link TensorOps#capture} on CUDA: records what a body enqueues on the compute stream (and on the copy stream it
 * forks, see {@link BehindCopies}) as a CUDA graph, instantiates it, and replays it with one launch.
 */
final class GraphCapture {
    private GraphCapture() {}

    static TensorOps.Replay record(CudaStream stream, BehindCopies behind, DeviceAllocator alloc, Runnable body) {
        CUgraph_st graph = new CUgraph_st();
        behind.beginRecording();
        Check.cuda("cudaStreamBeginCapture", cudaStreamBeginCapture(stream.handle(), cudaStreamCaptureModeThreadLocal));
        try {
            body.run();
        } catch (RuntimeException e) {
            behind.destroy(behind.endRecording());
            cudaStreamEndCapture(stream.handle(), graph);
            if (!graph.isNull()) {
                cudaGraphDestroy(graph);
            }
            cudaGetLastError();
            throw e;
        }
        List<CUevent_st> events = behind.endRecording();
        int ended = cudaStreamEndCapture(stream.handle(), graph);
        if (ended != 0) {
            behind.destroy(events);
            Check.cuda("cudaStreamEndCapture", ended);
        }
        CUgraphExec_st exec = new CUgraphExec_st();
        int rc = cudaGraphInstantiate(exec, graph, 0L);
        if (rc != 0) {
            cudaGraphDestroy(graph);
            behind.destroy(events);
            Check.cuda("cudaGraphInstantiate", rc);
        }
        alloc.recordingsAlive(1);
        return new TensorOps.Replay() {
            private boolean closed;

            @Override
            public void launch() {
                Check.cuda("cudaGraphLaunch", cudaGraphLaunch(exec, stream.handle()));
            }

            @Override
            public void close() {
                if (!closed) {
                    closed = true;
                    alloc.recordingsAlive(-1);
                    cudaGraphExecDestroy(exec);
                    cudaGraphDestroy(graph);
                    behind.destroy(events);
                }
            }
        };
    }
}

package io.qsync.lowprec.layers;

import io.qsync.lowprec.ArrayAllocator;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * The buffers the switchable layers of one network hold outside DL4J workspaces. Each layer keeps the arrays that
 * must survive from its forward to its backward pass in its own pool; the arrays that die within one op call
 * (im2col matrices, backward temporaries) come from one scratch pool ({@link ArrayAllocator#sharedScratch()}) shared
 * by all switchable layers of the network, which therefore holds the largest buffer per role instead of the sum over
 * layers. Sharing is safe because a network runs one layer op at a time.
 *
 * <p>{@link SwitchableLayers#convert} and {@link PrecisionPlan#applyTo} install the shared pool, so a network restored
 * from a model zip gets one when its plan is applied; {@link #shareScratch} does it for a network whose precisions are
 * set otherwise (a layer without one uses a private scratch pool). The pool, like the network, must be used by one
 * thread at a time: DL4J networks are not thread-safe, and two threads training one network at once would also
 * overwrite each other's scratch arrays. Using the network from different threads one after the other is fine.
 */
public final class NetworkBuffers {
    private NetworkBuffers() {}

    /**
     * Makes all switchable layers of {@code net} take their scratch arrays from one pool.
     *
     * @param net a network
     * @return the pool (the one they already shared, if they did), or null if the network has no switchable layer
     */
    public static ArrayAllocator.Pool shareScratch(MultiLayerNetwork net) {
        return shareScratch(layers(net.getLayers()));
    }

    /**
     * Makes all switchable layers of {@code net} take their scratch arrays from one pool.
     *
     * @param net a graph
     * @return the pool (the one they already shared, if they did), or null if the graph has no switchable layer
     */
    public static ArrayAllocator.Pool shareScratch(ComputationGraph net) {
        return shareScratch(layers(net.getLayers()));
    }

    /**
     * @param net a network
     * @return bytes its switchable layers hold outside DL4J workspaces: Σ over layers of {@link
     *         PrecisionSwitchable#ownHeldBytes()} plus each distinct scratch pool once
     */
    public static long heldBytes(MultiLayerNetwork net) {
        return heldBytes(layers(net.getLayers()));
    }

    /**
     * @param net a graph
     * @return bytes its switchable layers hold outside DL4J workspaces (see {@link #heldBytes(MultiLayerNetwork)})
     */
    public static long heldBytes(ComputationGraph net) {
        return heldBytes(layers(net.getLayers()));
    }

    /** Installs one scratch pool into all switchable layers of {@code layers} unless they already share one. */
    static ArrayAllocator.Pool shareScratch(Collection<? extends Layer> layers) {
        List<PrecisionSwitchable> switchable = switchable(layers);
        if (switchable.isEmpty()) {
            return null;
        }
        ArrayAllocator.Pool first = switchable.get(0).scratchPool();
        if (first != null && switchable.stream().allMatch(s -> s.scratchPool() == first)) {
            return first;
        }
        ArrayAllocator.Pool shared = ArrayAllocator.sharedScratch();
        switchable.forEach(s -> s.useScratchPool(shared));
        return shared;
    }

    private static long heldBytes(Collection<? extends Layer> layers) {
        Set<ArrayAllocator.Pool> pools = Collections.newSetFromMap(new IdentityHashMap<>());
        long n = 0;
        for (PrecisionSwitchable s : switchable(layers)) {
            n += s.ownHeldBytes();
            ArrayAllocator.Pool p = s.scratchPool();
            if (p != null && pools.add(p)) {
                n += p.heldBytes();
            }
        }
        return n;
    }

    private static List<Layer> layers(Layer[] layers) {
        return layers == null ? List.of() : Arrays.asList(layers);
    }

    private static List<PrecisionSwitchable> switchable(Collection<? extends Layer> layers) {
        List<PrecisionSwitchable> out = new ArrayList<>();
        for (Layer l : layers) {
            if (l instanceof PrecisionSwitchable s) {
                out.add(s);
            }
        }
        return out;
    }
}

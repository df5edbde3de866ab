package io.qsync.runtime;

import java.nio.FloatBuffer;
import org.deeplearning4j.nn.api.Model;

/** A {@link TrainingEngine} that forwards every call to another one (tests override what they change). */
class DelegatingEngine implements TrainingEngine {
    protected final TrainingEngine inner;

    DelegatingEngine(TrainingEngine inner) {
        this.inner = inner;
    }

    @Override
    public String backendName() {
        return inner.backendName();
    }

    @Override
    public String device() {
        return inner.device();
    }

    @Override
    public long numParams() {
        return inner.numParams();
    }

    @Override
    public double computeGradient(HostBatch batch) {
        return inner.computeGradient(batch);
    }

    @Override
    public FloatBuffer gradient() {
        return inner.gradient();
    }

    @Override
    public long[][] nonAveragedRanges() {
        return inner.nonAveragedRanges();
    }

    @Override
    public void applyUpdate(int globalBatchSize, int epoch) {
        inner.applyUpdate(globalBatchSize, epoch);
    }

    @Override
    public void setEpoch(int epoch) {
        inner.setEpoch(epoch);
    }

    @Override
    public void readParams(FloatBuffer dst) {
        inner.readParams(dst);
    }

    @Override
    public void writeParams(FloatBuffer src) {
        inner.writeParams(src);
    }

    @Override
    public long updaterStateLength() {
        return inner.updaterStateLength();
    }

    @Override
    public void readUpdaterState(FloatBuffer dst) {
        inner.readUpdaterState(dst);
    }

    @Override
    public void writeUpdaterState(FloatBuffer src) {
        inner.writeUpdaterState(src);
    }

    @Override
    public long checksum() {
        return inner.checksum();
    }

    @Override
    public float[] output(HostBatch batch) {
        return inner.output(batch);
    }

    @Override
    public Model exportModel() {
        return inner.exportModel();
    }

    @Override
    public void close() {
        inner.close();
    }
}

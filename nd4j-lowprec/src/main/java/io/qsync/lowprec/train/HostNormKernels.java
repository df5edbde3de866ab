package io.qsync.lowprec.train;

/** {@link HostOps}' batch-norm, loss, norm and updater loops. */
final class HostNormKernels {
    private static final double LN10_TIMES_2 = 2 * Math.log(10);
    private static final float CLIP = 1e-10f;

    void bnStats(HostTensor x, int n, int c, int inner, HostTensor mean, HostTensor var) {
        float[] xv = x.data();
        int m = n * inner;
        for (int ch = 0; ch < c; ch++) {
            double s = 0;
            for (int b = 0; b < n; b++) {
                int base = x.offset() + (b * c + ch) * inner;
                for (int i = 0; i < inner; i++) {
                    s += xv[base + i];
                }
            }
            float mu = (float) (s / m);
            double q = 0;
            for (int b = 0; b < n; b++) {
                int base = x.offset() + (b * c + ch) * inner;
                for (int i = 0; i < inner; i++) {
                    double d = xv[base + i] - mu;
                    q += d * d;
                }
            }
            mean.data()[mean.offset() + ch] = mu;
            var.data()[var.offset() + ch] = (float) (q / m);
        }
    }

    void bnForward(
            HostTensor x,
            HostTensor mean,
            HostTensor var,
            double eps,
            HostTensor gamma,
            HostTensor beta,
            int n,
            int c,
            int inner,
            HostTensor y) {
        for (int ch = 0; ch < c; ch++) {
            float mu = mean.data()[mean.offset() + ch];
            float std = (float) Math.sqrt(var.data()[var.offset() + ch] + (float) eps);
            float ga = gamma.data()[gamma.offset() + ch];
            float be = beta.data()[beta.offset() + ch];
            for (int b = 0; b < n; b++) {
                int base = (b * c + ch) * inner;
                for (int i = 0; i < inner; i++) {
                    float xh = (x.data()[x.offset() + base + i] - mu) / std;
                    y.data()[y.offset() + base + i] = xh * ga + be;
                }
            }
        }
    }

    void bnBackward(
            HostTensor x,
            HostTensor dy,
            HostTensor mean,
            HostTensor var,
            double eps,
            HostTensor gamma,
            int n,
            int c,
            int inner,
            HostTensor dx,
            HostTensor dGamma,
            HostTensor dBeta) {
        int m = n * inner;
        for (int ch = 0; ch < c; ch++) {
            float mu = mean.data()[mean.offset() + ch];
            float std = (float) Math.sqrt(var.data()[var.offset() + ch] + (float) eps);
            float ga = gamma.data()[gamma.offset() + ch];
            double sdy = 0;
            double sdyXh = 0;
            double sdxhXmu = 0;
            double sxmu = 0;
            for (int b = 0; b < n; b++) {
                int base = (b * c + ch) * inner;
                for (int i = 0; i < inner; i++) {
                    float xmu = x.data()[x.offset() + base + i] - mu;
                    float d = dy.data()[dy.offset() + base + i];
                    sdy += d;
                    sdyXh += d * (xmu / std);
                    sdxhXmu += d * ga * xmu;
                    sxmu += xmu;
                }
            }
            double dLdVar = sdxhXmu * -0.5 * Math.pow(std, -3.0);
            double dLdMu = -(sdy * ga) / std + sxmu * (-2.0 / m) * dLdVar;
            float k1 = ga / std;
            float k2 = (float) (dLdVar * 2.0 / m);
            float k3 = (float) (dLdMu / m);
            for (int b = 0; b < n; b++) {
                int base = (b * c + ch) * inner;
                for (int i = 0; i < inner; i++) {
                    float xmu = x.data()[x.offset() + base + i] - mu;
                    dx.data()[dx.offset() + base + i] = dy.data()[dy.offset() + base + i] * k1 + xmu * k2 + k3;
                }
            }
            dGamma.data()[dGamma.offset() + ch] = (float) sdyXh;
            dBeta.data()[dBeta.offset() + ch] = (float) sdy;
        }
    }

    void bnRunningDelta(
            HostTensor globalMean,
            HostTensor global,
            HostTensor batchMean,
            HostTensor batchVar,
            double decay,
            boolean log10Std,
            int c,
            HostTensor dMean,
            HostTensor dGlobal) {
        for (int ch = 0; ch < c; ch++) {
            float gm = globalMean.data()[globalMean.offset() + ch];
            float bm = batchMean.data()[batchMean.offset() + ch];
            float bv = batchVar.data()[batchVar.offset() + ch];
            float g = global.data()[global.offset() + ch];
            dMean.data()[dMean.offset() + ch] = (float) ((gm - bm) * (1 - decay));
            float d;
            if (log10Std) {
                double s = Math.pow(10.0, g);
                double v = s * s;
                double vNext = v * decay + bv * (1 - decay);
                d = (float) (Math.log(v / vNext) / LN10_TIMES_2);
            } else {
                d = (float) ((g - bv) * (1 - decay));
            }
            dGlobal.data()[dGlobal.offset() + ch] = d;
        }
    }

    void varFromLog10Std(HostTensor log10Std, HostTensor var) {
        for (int i = 0; i < log10Std.len(); i++) {
            double s = Math.pow(10.0, log10Std.data()[log10Std.offset() + i]);
            var.data()[var.offset() + i] = (float) (s * s);
        }
    }

    void softmax(HostTensor z, int rows, int cols, HostTensor probs) {
        for (int r = 0; r < rows; r++) {
            int base = r * cols;
            float mx = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < cols; j++) {
                mx = Math.max(mx, z.data()[z.offset() + base + j]);
            }
            float s = 0;
            for (int j = 0; j < cols; j++) {
                float e = (float) Math.exp(z.data()[z.offset() + base + j] - mx);
                probs.data()[probs.offset() + base + j] = e;
                s += e;
            }
            for (int j = 0; j < cols; j++) {
                probs.data()[probs.offset() + base + j] /= s;
            }
        }
    }

    void softmaxCrossEntropy(
            HostTensor z, HostTensor labels, int rows, int cols, HostTensor probs, HostTensor dz, HostTensor loss) {
        softmax(z, rows, cols, probs);
        double total = 0;
        for (int i = 0; i < rows * cols; i++) {
            float p = probs.data()[probs.offset() + i];
            float y = labels.data()[labels.offset() + i];
            float pc = Math.min(1f - CLIP, Math.max(CLIP, p));
            total -= y * Math.log(pc);
            dz.data()[dz.offset() + i] = p - y;
        }
        loss.data()[loss.offset()] = (float) total;
    }

    void mse(HostTensor out, HostTensor labels, int rows, int cols, HostTensor dz, HostTensor loss) {
        double total = 0;
        for (int i = 0; i < rows * cols; i++) {
            float d = out.data()[out.offset() + i] - labels.data()[labels.offset() + i];
            total += (double) d * d / cols;
            dz.data()[dz.offset() + i] = 2f * d / cols;
        }
        loss.data()[loss.offset()] = (float) total;
    }

    void sumSquares(HostTensor x, HostTensor acc) {
        double s = 0;
        for (int i = 0; i < x.len(); i++) {
            double v = x.data()[x.offset() + i];
            s += v * v;
        }
        acc.data()[acc.offset()] += (float) s;
    }

    void normScale(HostTensor x, HostTensor sumSq, double threshold, boolean clip) {
        double norm = Math.sqrt(sumSq.data()[sumSq.offset()]);
        float f;
        if (clip) {
            f = norm > threshold ? (float) (threshold / norm) : 1f;
        } else {
            f = norm > 0 ? (float) (1.0 / norm) : 1f;
        }
        for (int i = 0; i < x.len(); i++) {
            x.data()[x.offset() + i] *= f;
        }
    }

    void adam(
            HostTensor g,
            HostTensor m,
            HostTensor v,
            double lr,
            double beta1,
            double beta2,
            double eps,
            int iteration) {
        FlatAdam.step(
                null,
                java.nio.FloatBuffer.wrap(g.data()),
                java.nio.FloatBuffer.wrap(m.data()),
                java.nio.FloatBuffer.wrap(v.data()),
                g.offset(),
                g.len(),
                m.offset(),
                v.offset(),
                0,
                AdamScalars.stepSize(lr, beta1, beta2, eps, iteration),
                (float) beta1,
                (float) beta2,
                (float) eps);
    }

    void nesterovs(HostTensor g, HostTensor v, double lr, double momentum) {
        float mu = (float) momentum;
        float l = (float) lr;
        for (int i = 0; i < g.len(); i++) {
            float prev = v.data()[v.offset() + i];
            float next = mu * prev - l * g.data()[g.offset() + i];
            v.data()[v.offset() + i] = next;
            g.data()[g.offset() + i] = mu * prev + (-mu - 1f) * next;
        }
    }
}

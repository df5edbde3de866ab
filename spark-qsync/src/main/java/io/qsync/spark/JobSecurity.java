package io.qsync.spark;

import io.qsync.comm.RingAuth;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.HexFormat;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkEnv;

/**
 * What protects a training job's own connections (the TCP ring and the progress port) when Spark's are protected:
 * authentication under {@code spark.authenticate}, and AES-GCM on the ring's frames when Spark encrypts its traffic.
 * With {@code spark.authenticate} the driver draws a random nonce per job; every ring (one per attempt of the barrier
 * stage) and the progress port get keys derived from Spark's application secret, the nonce and (for the ring) the
 * stage attempt, so only this job's tasks of this attempt can connect. The secret itself never travels: executors read
 * it from their own {@code SecurityManager}.
 *
 * @param authenticate {@code spark.authenticate} is on
 * @param encrypt      the ring's frames are encrypted (Spark encrypts its own traffic and the user did not opt out)
 * @param nonce        per-job random bytes (empty without authentication)
 */
record JobSecurity(boolean authenticate, boolean encrypt, byte[] nonce) implements Serializable {

    /**
     * The security of a job about to start on {@code conf}.
     *
     * @throws IllegalArgumentException if Spark encrypts its traffic but gradients would travel in clear text and the
     *                                  user has not allowed that ({@code spark.qsync.comm.allowPlaintext})
     */
    static JobSecurity forJob(SparkConf conf, FaultSettings faults) {
        boolean authenticate = conf.getBoolean("spark.authenticate", false);
        boolean sparkEncrypts = conf.getBoolean("spark.network.crypto.enabled", false)
                || conf.getBoolean("spark.ssl.enabled", false)
                || conf.getBoolean("spark.ssl.rpc.enabled", false);
        boolean encrypt = sparkEncrypts && !faults.allowPlaintext();
        if (encrypt && !authenticate) {
            throw new IllegalArgumentException("Spark's network traffic is encrypted (spark.network.crypto.enabled or "
                    + "spark.ssl.enabled) but spark.authenticate is off, so there is no application secret to encrypt the "
                    + "training ring's gradients with; set spark.authenticate=true, or spark.qsync.comm.allowPlaintext=true to "
                    + "send them in clear text on a trusted network");
        }
        byte[] nonce = new byte[authenticate ? 32 : 0];
        new SecureRandom().nextBytes(nonce);
        return new JobSecurity(authenticate, encrypt, nonce);
    }

    /** No protection (tests of the plain path). */
    static JobSecurity none() {
        return new JobSecurity(false, false, new byte[0]);
    }

    /** The ring authentication of one attempt of the barrier stage (run on an executor or the driver). */
    RingAuth ring(int stageId, int attempt) {
        if (!authenticate) {
            return RingAuth.none();
        }
        RingAuth auth = RingAuth.withKey(RingAuth.derive(
                secret(),
                "qsync-ring",
                HexFormat.of().formatHex(nonce),
                Integer.toString(stageId),
                Integer.toString(attempt)));
        return encrypt ? auth.encrypting() : auth;
    }

    /** The key of the progress port, or null without authentication. */
    byte[] progressKey() {
        return authenticate
                ? RingAuth.derive(secret(), "qsync-progress", HexFormat.of().formatHex(nonce))
                : null;
    }

    private static byte[] secret() {
        String s = SparkEnv.get().securityManager().getSecretKey();
        if (s == null || s.isEmpty()) {
            throw new IllegalStateException("spark.authenticate is on but this JVM has no application secret");
        }
        return s.getBytes(StandardCharsets.UTF_8);
    }
}

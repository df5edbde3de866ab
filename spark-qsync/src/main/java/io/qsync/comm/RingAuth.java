package io.qsync.comm;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The shared secret of one ring (one attempt of one job), or none. With a secret, every ring connection proves both
 * ends know it: HMAC-SHA256 over the acceptor's and the connector's fresh random nonces and the handshake fields, so a
 * stranger (or a replay of an old handshake) is dropped. Keys for other purposes are derived with {@link #derive}.
 */
public final class RingAuth {
    /** Bytes of a nonce and of a MAC. */
    static final int NONCE_BYTES = 16;

    static final int MAC_BYTES = 32;
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final RingAuth NONE = new RingAuth(null, false);
    private final byte[] key;
    private final boolean encrypt;

    private RingAuth(byte[] key, boolean encrypt) {
        this.key = key;
        this.encrypt = encrypt;
    }

    /** No authentication (a trusted network). */
    public static RingAuth none() {
        return NONE;
    }

    /** Authenticates with {@code key} (at least 16 bytes). */
    public static RingAuth withKey(byte[] key) {
        if (key == null || key.length < 16) {
            throw new IllegalArgumentException("a ring key needs at least 16 bytes");
        }
        return new RingAuth(key.clone(), false);
    }

    /** This authentication, and every frame of the ring encrypted with AES-256-GCM under keys derived from the key. */
    public RingAuth encrypting() {
        if (key == null) {
            throw new IllegalStateException("encryption needs a ring key");
        }
        return new RingAuth(key, true);
    }

    /** True if the ring's frames are encrypted. */
    public boolean encrypts() {
        return encrypt;
    }

    /** True if connections must prove knowledge of the key. */
    public boolean enabled() {
        return key != null;
    }

    /** A key for {@code purpose} derived from {@code secret} (HMAC-SHA256 of the purpose's parts). */
    public static byte[] derive(byte[] secret, String... purpose) {
        return hmac(secret, String.join("|", purpose).getBytes(StandardCharsets.UTF_8));
    }

    /** This ring's key derived for {@code purpose}; only when {@link #enabled()}. */
    byte[] subKey(String purpose) {
        return derive(key, purpose);
    }

    static byte[] nonce() {
        byte[] n = new byte[NONCE_BYTES];
        RANDOM.nextBytes(n);
        return n;
    }

    /** MAC of {@code parts} under this ring's key (zeros without a key). */
    byte[] mac(byte[]... parts) {
        if (key == null) {
            return new byte[MAC_BYTES];
        }
        int n = 0;
        for (byte[] p : parts) {
            n += 4 + p.length;
        }
        ByteBuffer b = ByteBuffer.allocate(n);
        for (byte[] p : parts) {
            b.putInt(p.length).put(p);
        }
        return hmac(key, b.array());
    }

    /** True without a key, or if {@code mac} is the MAC of {@code parts} (constant-time comparison). */
    boolean verify(byte[] mac, byte[]... parts) {
        return key == null || MessageDigest.isEqual(mac, mac(parts));
    }

    private static byte[] hmac(byte[] key, byte[] data) {
        try {
            Mac m = Mac.getInstance("HmacSHA256");
            m.init(new SecretKeySpec(key, "HmacSHA256"));
            return m.doFinal(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available in this JVM", e);
        }
    }
}

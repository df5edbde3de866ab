package io.qsync.comm;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * A process that does not know the job's secret but knows the wire formats: it connects to a port, reads the
 * greeting, and answers like a member would, with a forged MAC (ring) or answer (progress port), followed by what it
 * wants the other side to believe.
 */
public final class Stranger {
    /** What the port greeted with. */
    public enum Kind {
        RING,
        PROGRESS,
        SILENT
    }

    private Stranger() {}

    /**
     * Connects to {@code host:port}, waits up to {@code greetMillis} for a greeting and sends a forgery fitting it.
     *
     * @param session the ring session id to claim (the stranger may guess it)
     * @return what kind of port it was
     */
    public static Kind visit(String host, int port, String session, int greetMillis) throws IOException {
        Socket s = new Socket();
        s.connect(new InetSocketAddress(host, port), 2000);
        return visit(s, session, greetMillis);
    }

    /** As {@link #visit(String, int, String, int)} on an already connected socket (closed on return). */
    public static Kind visit(Socket socket, String session, int greetMillis) throws IOException {
        try (Socket s = socket) {
            s.setSoTimeout(greetMillis);
            DataInputStream in = new DataInputStream(s.getInputStream());
            OutputStream out = s.getOutputStream();
            byte[] first = new byte[4];
            try {
                in.readFully(first);
            } catch (java.net.SocketTimeoutException e) {
                return Kind.SILENT;
            }
            if (ByteBuffer.wrap(first).order(ByteOrder.LITTLE_ENDIAN).getInt() == 0x51535943) {
                in.readFully(new byte[4 + 16]); // version, nonce
                byte[] sid = session.getBytes(StandardCharsets.UTF_8);
                ByteBuffer hello =
                        ByteBuffer.allocate(20 + sid.length + 16 + 32).order(ByteOrder.LITTLE_ENDIAN);
                hello.putInt(0x51535943)
                        .putInt(2)
                        .putInt(0)
                        .putInt(2)
                        .putInt(sid.length)
                        .put(sid)
                        .put(new byte[16])
                        .put(new byte[32]);
                out.write(hello.array());
                out.write("garbage after the handshake".getBytes(StandardCharsets.UTF_8));
                out.flush();
                drain(in);
                return Kind.RING;
            }
            if (new String(first, StandardCharsets.US_ASCII).equals("QSYN")) {
                out.write(("AUTH 00\nE 0 99 99999 0.000100 1.000000 0.999900 1.000000\n" + "S 0 1 2 0.000100 99999.0\n")
                        .getBytes(StandardCharsets.UTF_8));
                out.flush();
                drain(in);
                return Kind.PROGRESS;
            }
            return Kind.SILENT;
        }
    }

    private static void drain(DataInputStream in) {
        try {
            while (in.read() >= 0) {
                // until the other side closes (or the read times out)
            }
        } catch (IOException e) {
            // closed or timed out
        }
    }
}

package io.qsync.comm;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;

/**
 * A ring member in its own JVM, driven by {@link MultiProcessRingTest} over stdin/stdout: prints {@code ADDR host:port},
 * reads {@code PEERS a,b,...}, joins the ring, prints {@code READY}, then either all-reduces and prints
 * {@code CHECKSUM <hex>} ({@code mode=reduce}) or, with {@code mode=wait}, all-reduces while its peer is killed and
 * prints {@code COMM_EXCEPTION <message>}. Args: rank size mode elements.
 */
public final class RingChildMain {
    private RingChildMain() {}

    /** Entry point. */
    public static void main(String[] args) throws Exception {
        int rank = Integer.parseInt(args[0]);
        int size = Integer.parseInt(args[1]);
        String mode = args[2];
        int len = Integer.parseInt(args[3]);
        CommConfig cfg = new CommConfig(Duration.ofSeconds(30), Duration.ofSeconds(60), 64 * 1024);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        try (TcpRingCommunicator.Endpoint ep = TcpRingCommunicator.open("127.0.0.1", cfg)) {
            System.out.println("ADDR " + ep.address());
            System.out.flush();
            String line = in.readLine();
            if (line == null || !line.startsWith("PEERS ")) {
                throw new IllegalStateException("expected PEERS, got " + line);
            }
            try (Communicator comm =
                    ep.connect(rank, Arrays.asList(line.substring(6).split(",")), "child-test")) {
                System.out.println("READY");
                System.out.flush();
                if (mode.equals("wait")) {
                    in.readLine(); // never answered: the test kills this process here
                }
                FloatBuffer b = ByteBuffer.allocateDirect(len * 4)
                        .order(ByteOrder.nativeOrder())
                        .asFloatBuffer();
                b.put(0, CommunicatorContractTest.data(rank, len, 42));
                try {
                    comm.allReduce(b, ReduceOp.SUM);
                } catch (CommException e) {
                    System.out.println("COMM_EXCEPTION " + e.getMessage().replace('\n', ' '));
                    System.out.flush();
                    System.exit(3);
                }
                long h = 1125899906842597L;
                for (int i = 0; i < len; i++) {
                    h = 31 * h + Float.floatToRawIntBits(b.get(i));
                }
                System.out.println("CHECKSUM " + Long.toHexString(h));
                System.out.println("FIRST " + b.get(0));
                System.out.flush();
            }
        }
    }
}

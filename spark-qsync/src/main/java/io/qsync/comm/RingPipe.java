package io.qsync.comm;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The two non-blocking sockets of one ring member and the event loop that drives a {@link RingSchedule} over them:
 * frames go out to the right neighbour while frames from the left neighbour are received and consumed, with a
 * bounded no-progress timeout and a prompt abort path.
 *
 * <p>The right socket carries data rightwards; its reverse direction carries only ABORT notices from the right
 * neighbour (the left socket likewise carries ABORT notices leftwards). On failure or {@link #abort} this member
 * completes the frame it was sending (briefly, best effort), sends an ABORT frame with the reason both ways and closes
 * both sockets, so the failure travels around the ring in both directions instead of waiting for timeouts.
 */
final class RingPipe {
    private static final int SLOTS = 8;
    /** How long a collective polls its sockets without progress before it sleeps in the selector. */
    private static final long SPIN_NANOS = 100_000;

    private final int rank;
    private final int size;
    private final String leftName;
    private final String rightName;
    private final SocketChannel left;
    private final SocketChannel right;
    private final long ioTimeoutNanos;
    private final String ioTimeoutText;
    private final Selector selector;
    private final SelectionKey leftKey;
    private final SelectionKey rightKey;
    private final OutgoingFrames out;
    private final ByteBuffer recv;
    private final ByteBuffer back = ByteBuffer.allocate(RingSchedule.HEADER_BYTES + PeerAbort.MAX_REASON_BYTES);
    private final ReentrantLock ioLock = new ReentrantLock();
    /** Null for plain frames; else received frames are opened into {@link #plain}. */
    private final FrameCipher cipher;

    private final ByteBuffer plain;
    private volatile String abortReason;
    private boolean torn;
    private boolean rightClosedGracefully;
    private int head;
    private int filled;

    RingPipe(
            int rank,
            int size,
            SocketChannel left,
            String leftName,
            SocketChannel right,
            String rightName,
            CommConfig cfg)
            throws IOException {
        this(rank, size, left, leftName, right, rightName, cfg, null);
    }

    /** A pipe whose DATA frames are encrypted with {@code cipher} (null: plain). */
    RingPipe(
            int rank,
            int size,
            SocketChannel left,
            String leftName,
            SocketChannel right,
            String rightName,
            CommConfig cfg,
            FrameCipher cipher)
            throws IOException {
        this.cipher = cipher;
        int extra = cipher == null ? 0 : FrameCipher.TAG_BYTES;
        this.plain = cipher == null
                ? null
                : ByteBuffer.allocateDirect(cfg.chunkBytes() + extra).order(ByteOrder.LITTLE_ENDIAN);
        this.rank = rank;
        this.size = size;
        this.left = left;
        this.right = right;
        this.leftName = leftName;
        this.rightName = rightName;
        this.ioTimeoutNanos = cfg.ioTimeout().toNanos();
        this.ioTimeoutText = cfg.ioTimeout().toString();
        this.out = new OutgoingFrames(SLOTS, cfg.chunkBytes(), cipher);
        recv = ByteBuffer.allocateDirect(
                        RingSchedule.HEADER_BYTES + Math.max(cfg.chunkBytes() + extra, PeerAbort.MAX_REASON_BYTES))
                .order(ByteOrder.LITTLE_ENDIAN);
        back.order(ByteOrder.LITTLE_ENDIAN);
        left.configureBlocking(false);
        right.configureBlocking(false);
        selector = Selector.open();
        leftKey = left.register(selector, 0);
        rightKey = right.register(selector, SelectionKey.OP_READ);
    }

    /** This member's rank. */
    int rank() {
        return rank;
    }

    /**
     * Runs {@code s} to completion.
     *
     * @param what e.g. "allReduce #3", used in error messages
     * @throws CommException on timeout, peer failure, mismatch or abort; the pipe is then torn down
     */
    void run(RingSchedule s, String what) {
        ioLock.lock();
        try {
            if (abortReason != null) {
                teardown(abortReason);
                throw new CommException(
                        what + " failed at rank " + rank + " of " + size + ": communicator aborted: " + abortReason);
            }
            try {
                loop(s, what);
            } catch (PeerAbort e) {
                onFailure(e.getMessage());
                throw new CommException(
                        what + " failed at rank " + rank + " of " + size + ": a peer failed: " + e.getMessage(),
                        null,
                        e.notice);
            } catch (CommException e) {
                if (abortReason != null) { // abort() from another thread
                    teardown(abortReason);
                    throw new CommException(
                            what + " failed at rank " + rank + " of " + size + ": aborted: " + abortReason);
                }
                onFailure("rank " + rank + ": " + e.getMessage());
                throw new CommException(
                        what + " failed at rank " + rank + " of " + size + ": " + e.getMessage(), e.getCause());
            } catch (IOException | RuntimeException e) {
                String peer = pendingBackReason();
                if (peer != null) {
                    onFailure(peer);
                    throw new CommException(
                            what + " failed at rank " + rank + " of " + size + ": a peer failed: " + peer, e, true);
                }
                String msg = "I/O error on the ring (left neighbour " + leftName + ", right neighbour " + rightName
                        + "): " + e;
                onFailure("rank " + rank + ": " + msg);
                throw new CommException(what + " failed at rank " + rank + " of " + size + ": " + msg, e);
            }
        } finally {
            ioLock.unlock();
        }
        if (abortReason != null) {
            tearDownIfFree();
        }
    }

    private void onFailure(String reason) {
        if (abortReason == null) {
            abortReason = reason;
        }
        teardown(abortReason);
    }

    /** Requests an abort from any thread: wakes a running collective, or tears down now if none runs. */
    void abort(String reason) {
        if (abortReason == null) {
            abortReason = reason;
        }
        selector.wakeup();
        tearDownIfFree();
    }

    /** Closes both sockets without notifying anyone (the neighbours see end-of-stream). */
    void close() {
        if (ioLock.isLocked() && !ioLock.isHeldByCurrentThread()) {
            abort("rank " + rank + " closed its communicator during a collective");
        }
        ioLock.lock();
        try {
            torn = true;
            closeQuietly();
        } finally {
            ioLock.unlock();
        }
    }

    private void tearDownIfFree() {
        if (ioLock.tryLock()) {
            try {
                teardown(abortReason);
            } finally {
                ioLock.unlock();
            }
        }
    }

    private String pendingBackReason() {
        try {
            if (right.isOpen()) {
                right.read(back);
            }
        } catch (IOException ignored) {
            // reset: use what arrived before
        }
        return PeerAbort.reasonIn(back);
    }

    private void loop(RingSchedule s, String what) throws IOException {
        long lastProgress = System.nanoTime();
        head = 0;
        filled = 0;
        recv.clear().limit(RingSchedule.HEADER_BYTES);
        while (s.hasMoreSends() || filled > 0 || s.hasMoreRecvs()) {
            if (abortReason != null) {
                throw new CommException(abortReason);
            }
            if (rightClosedGracefully && (filled > 0 || s.hasMoreSends())) {
                throw new PeerAbort(
                        "right neighbour " + rightName + " closed the connection (it failed, was killed or closed)",
                        false);
            }
            boolean progress = false;
            while (filled < SLOTS && s.hasMoreSends() && out.fill(s, (head + filled) % SLOTS)) {
                filled++;
                progress = true;
            }
            while (filled > 0) {
                ByteBuffer[] f = out.frame(head);
                if (right.write(f) > 0) {
                    progress = true;
                }
                if (f[f.length - 1].hasRemaining()) {
                    break;
                }
                head = (head + 1) % SLOTS;
                filled--;
            }
            if (s.hasMoreRecvs()) {
                int n = left.read(recv);
                if (n < 0) {
                    throw new PeerAbort(
                            "left neighbour " + leftName + " closed the connection during " + what + " (" + s.progress()
                                    + "); it failed or was killed — see its log",
                            false);
                }
                if (n > 0) {
                    progress = true;
                    consume(s);
                }
            }
            if (progress) {
                lastProgress = System.nanoTime();
                continue;
            }
            if (System.nanoTime() - lastProgress < SPIN_NANOS) {
                Thread.onSpinWait(); // the next frame is usually microseconds away: polling beats a sleep and wake-up
                continue;
            }
            leftKey.interestOps(s.hasMoreRecvs() ? SelectionKey.OP_READ : 0);
            rightKey.interestOps(
                    (rightClosedGracefully ? 0 : SelectionKey.OP_READ) | (filled > 0 ? SelectionKey.OP_WRITE : 0));
            long waitNanos = ioTimeoutNanos - (System.nanoTime() - lastProgress);
            if (waitNanos <= 0) {
                throw new CommException("no progress for " + ioTimeoutText + " in " + what + " (" + s.progress()
                        + (s.hasMoreRecvs() ? "; waiting for left neighbour " + leftName : "")
                        + (filled > 0 ? "; right neighbour " + rightName + " is not reading" : "")
                        + "): a peer is stalled or dead; if steps legitimately take longer, increase "
                        + CommConfig.IO_TIMEOUT_KEY);
            }
            selector.select(Math.max(1, TimeUnit.NANOSECONDS.toMillis(waitNanos)));
            if (rightKey.isValid() && rightKey.isReadable()) {
                readBack(filled > 0 || s.hasMoreSends());
            }
            selector.selectedKeys().clear();
        }
    }

    /** Consumes complete frames in {@link #recv} (header first, then payload). */
    private void consume(RingSchedule s) {
        if (recv.hasRemaining()) {
            return;
        }
        if (recv.limit() == RingSchedule.HEADER_BYTES) {
            int len = recv.getInt(4);
            if (len < 0 || len > recv.capacity() - RingSchedule.HEADER_BYTES) {
                throw new CommException("protocol error: frame of " + len + " bytes from left neighbour " + leftName
                        + " (is it running a different chunk size or version?)");
            }
            recv.limit(RingSchedule.HEADER_BYTES + len);
            if (len > 0) {
                return;
            }
        }
        int tag = recv.getInt(0);
        ByteBuffer payload =
                recv.duplicate().position(RingSchedule.HEADER_BYTES).slice().order(ByteOrder.LITTLE_ENDIAN);
        if (tag == RingSchedule.ABORT) {
            throw new PeerAbort(StandardCharsets.UTF_8.decode(payload).toString(), true);
        }
        s.onReceive(tag, cipher == null ? payload : cipher.open(tag, payload, plain, "left neighbour " + leftName));
        recv.clear().limit(RingSchedule.HEADER_BYTES);
    }

    /** Reads the right neighbour's reverse direction: only ABORT notices or end-of-stream arrive there. */
    private void readBack(boolean sending) throws IOException {
        int n = right.read(back);
        String reason = PeerAbort.reasonIn(back);
        if (reason != null) {
            throw new PeerAbort(reason, true);
        }
        if (n < 0) {
            if (sending) {
                throw new PeerAbort(
                        "right neighbour " + rightName + " closed the connection; it failed or was killed"
                                + " — see its log",
                        false);
            }
            rightClosedGracefully = true;
        }
    }

    /** Completes the partly sent frame, notifies both neighbours and closes; bounded, best effort. Idempotent. */
    private void teardown(String reason) {
        if (torn) {
            return;
        }
        torn = true;
        try {
            ByteBuffer notice = PeerAbort.notice(reason);
            long deadline = System.nanoTime() + Math.min(ioTimeoutNanos / 2, TimeUnit.MILLISECONDS.toNanos(500));
            ByteBuffer[] partial = filled > 0 && out.partlySent(head) ? out.frame(head) : null;
            filled = 0;
            writeBounded(left, notice.duplicate(), deadline);
            if (partial != null) {
                for (ByteBuffer b : partial) {
                    writeBounded(right, b, deadline);
                }
            }
            writeBounded(right, notice, deadline);
        } catch (IOException | RuntimeException ignored) {
            // best effort: the neighbour is gone or stalled; closing below still tells it
        } finally {
            closeQuietly();
        }
    }

    private void writeBounded(SocketChannel ch, ByteBuffer b, long deadline) throws IOException {
        if (!ch.isOpen()) {
            return;
        }
        while (b.hasRemaining() && ch.write(b) >= 0 && b.hasRemaining()) {
            long wait = deadline - System.nanoTime();
            if (wait <= 0) {
                return;
            }
            leftKey.interestOps(0);
            rightKey.interestOps(0);
            ch.keyFor(selector).interestOps(SelectionKey.OP_WRITE);
            selector.select(Math.max(1, TimeUnit.NANOSECONDS.toMillis(wait)));
            selector.selectedKeys().clear();
        }
    }

    private void closeQuietly() {
        for (AutoCloseable c : new AutoCloseable[] {left, right, selector}) {
            try {
                c.close();
            } catch (Exception ignored) {
                // closing
            }
        }
    }
}

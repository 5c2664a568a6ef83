package io.snakebridge.internal;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;

/**
 * Length-prefixed frames (PROTOCOL.md FRAME-*): a 4-byte big-endian length, then the payload.
 * Public: the conformance suite's protocol client speaks the protocol through it too. Not thread-safe: the connection serializes its requests.
 */
public final class FrameChannel {
    /** The size of the buffer that a frame being dropped passes through, a piece at a time. */
    private static final int DISCARD_CHUNK = 64 * 1024;
    private final InputStream in;
    private final OutputStream out;
    private final int maxFrameBytes;
    private final byte[] header = new byte[4];

    public FrameChannel(InputStream in, OutputStream out, int maxFrameBytes) {
        this.in = new BufferedInputStream(in, 65536);
        this.out = new BufferedOutputStream(out, 65536);
        this.maxFrameBytes = maxFrameBytes;
    }

    public void write(byte[] payload) throws IOException {
        write(payload, List.of());
    }

    /**
     * Writes one message: its JSON frame, then one frame per attachment (PROTOCOL.md ATT-1), with
     * one flush. Sizes are checked first, so a refused message writes nothing.
     */
    public void write(byte[] payload, List<byte[]> attachments) throws IOException {
        append(payload, attachments);
        out.flush();
    }

    /**
     * Writes one message as {@link #write(byte[], List)} does, but leaves it in the buffer until
     * {@link #flush()}: pipelined requests then reach the worker in one write, not one each.
     */
    void append(byte[] payload, List<byte[]> attachments) throws IOException {
        checkSize(payload.length, "message");
        for (byte[] attachment : attachments) {
            checkSize(attachment.length, "attachment");
        }
        writeFrame(payload);
        for (byte[] attachment : attachments) {
            writeFrame(attachment);
        }
    }

    /** Sends what {@link #append} left in the buffer. */
    void flush() throws IOException {
        out.flush();
    }

    /** The one frame-size check: writing refuses what it fails, and callers use it to refuse early. */
    void checkSize(int length, String what) throws FrameException {
        if (length > maxFrameBytes) {
            throw new FrameException("a " + what + " of " + length + " bytes exceeds maxFrameBytes=" + maxFrameBytes);
        }
    }

    private void writeFrame(byte[] payload) throws IOException {
        int n = payload.length;
        header[0] = (byte) (n >>> 24);
        header[1] = (byte) (n >>> 16);
        header[2] = (byte) (n >>> 8);
        header[3] = (byte) n;
        out.write(header);
        out.write(payload);
    }

    /** The next payload; {@link EOFException} when the stream ends. */
    public byte[] read() throws IOException {
        return readPayload(readLength());
    }

    /** The next frame's length, checked against the frame limit before anything is allocated for it. */
    int readLength() throws IOException {
        readFully(header, 4);
        long n = ((header[0] & 0xffL) << 24) | ((header[1] & 0xff) << 16) | ((header[2] & 0xff) << 8) | (header[3] & 0xff);
        if (n > maxFrameBytes) {
            throw new FrameException("response frame of " + n + " bytes exceeds maxFrameBytes=" + maxFrameBytes);
        }
        return (int) n;
    }

    /** The payload of the frame whose length {@link #readLength()} returned. */
    byte[] readPayload(int length) throws IOException {
        byte[] payload = new byte[length];
        readFully(payload, length);
        return payload;
    }

    /** Reads and drops {@code length} payload bytes, a buffer at a time: the stream stays in step, the heap untouched. */
    void discard(long length) throws IOException {
        byte[] scratch = new byte[(int) Math.min(length, DISCARD_CHUNK)];
        for (long left = length; left > 0; left -= scratch.length) {
            readFully(scratch, (int) Math.min(left, scratch.length));
        }
    }

    /**
     * The payload of the frame whose length {@link #readLength()} returned, as a stream, for reading
     * a frame without holding it. Closing it drops what was not read, so the next frame can be read.
     */
    InputStream payloadStream(int length) {
        return new InputStream() {
            private int left = length;

            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] buffer, int offset, int wanted) throws IOException {
                if (left == 0) {
                    return -1;
                }
                int n = Math.min(wanted, left);
                readFully(buffer, offset, n);
                left -= n;
                return n;
            }

            @Override
            public void close() throws IOException {
                discard(left);
                left = 0;
            }
        };
    }

    private void readFully(byte[] buffer, int length) throws IOException {
        readFully(buffer, 0, length);
    }

    private void readFully(byte[] buffer, int start, int length) throws IOException {
        for (int done = 0; done < length; ) {
            int read = in.read(buffer, start + done, length - done);
            if (read < 0) {
                throw new EOFException(done == 0 && buffer == header
                        ? "worker closed the protocol stream"
                        : "worker stream ended inside a frame (" + done + " of " + length + " bytes)");
            }
            done += read;
        }
    }

    /** The peer broke the framing rules; the stream cannot be trusted any more. */
    public static final class FrameException extends IOException {
        private static final long serialVersionUID = 1L;

        public FrameException(String message) {
            super(message);
        }
    }
}

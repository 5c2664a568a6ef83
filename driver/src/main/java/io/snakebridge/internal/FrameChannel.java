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
        checkSize(payload.length, "message");
        for (byte[] attachment : attachments) {
            checkSize(attachment.length, "attachment");
        }
        writeFrame(payload);
        for (byte[] attachment : attachments) {
            writeFrame(attachment);
        }
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
        readFully(header, 4);
        long n = ((header[0] & 0xffL) << 24) | ((header[1] & 0xff) << 16) | ((header[2] & 0xff) << 8) | (header[3] & 0xff);
        if (n > maxFrameBytes) {
            throw new FrameException("response frame of " + n + " bytes exceeds maxFrameBytes=" + maxFrameBytes);
        }
        byte[] payload = new byte[(int) n];
        readFully(payload, payload.length);
        return payload;
    }

    private void readFully(byte[] buffer, int length) throws IOException {
        int offset = 0;
        while (offset < length) {
            int read = in.read(buffer, offset, length - offset);
            if (read < 0) {
                throw new EOFException(offset == 0 && buffer == header
                        ? "worker closed the protocol stream"
                        : "worker stream ended inside a frame (" + offset + " of " + length + " bytes)");
            }
            offset += read;
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

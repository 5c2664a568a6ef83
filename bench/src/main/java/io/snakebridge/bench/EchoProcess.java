package io.snakebridge.bench;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;

/**
 * The baseline of every benchmark: a CPython process that echoes length-prefixed frames over the
 * same kind of pipe a worker uses, doing the least a CPython process can do per round trip.
 */
final class EchoProcess implements AutoCloseable {
    private static final String ECHO = String.join("\n",
            "import sys, struct",
            "i, o = sys.stdin.buffer, sys.stdout.buffer",
            "while True:",
            "    h = i.read(4)",
            "    if len(h) < 4: break",
            "    o.write(h + i.read(struct.unpack('>I', h)[0])); o.flush()");

    private final Process process;
    private final DataOutputStream toEcho;
    private final DataInputStream fromEcho;

    EchoProcess(String python) throws IOException {
        process = new ProcessBuilder(python, "-c", ECHO).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        toEcho = new DataOutputStream(process.getOutputStream());
        fromEcho = new DataInputStream(process.getInputStream());
    }

    /** Sends {@code frame} and reads the echo into {@code reply}. */
    byte[] roundTrip(byte[] frame, byte[] reply) throws IOException {
        toEcho.writeInt(frame.length);
        toEcho.write(frame);
        toEcho.flush();
        fromEcho.readFully(reply, 0, fromEcho.readInt());
        return reply;
    }

    @Override
    public void close() throws IOException {
        toEcho.close();
        process.destroy();
    }
}

package io.snakebridge.internal;

import io.snakebridge.shim.CancelWord;
import io.snakebridge.shim.ForkedProcess;
import io.snakebridge.shim.Signal;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.List;

/**
 * A worker that a {@link WorkerServer} forked: the protocol over a Unix socket, signals by pid, and
 * its end as the server reports it. Behaves as a spawned worker does (cancel, kill ladder, crash
 * diagnosis), so nothing above the {@link Transport} seam knows the difference.
 */
final class ForkedTransport implements Transport {
    private final SocketChannel channel;
    private final ForkedProcess process;
    private final InputStream input;
    private final OutputStream output;
    private final CancelWord cancelWord; // null where signals are unavailable

    ForkedTransport(SocketChannel channel, ForkedProcess process, CancelWord cancelWord) {
        this.channel = channel;
        this.process = process;
        this.cancelWord = cancelWord;
        this.input = new ChannelInput(channel);
        this.output = new ChannelOutput(channel);
    }

    @Override
    public InputStream input() {
        return input;
    }

    @Override
    public OutputStream output() {
        return output;
    }

    @Override
    public String name() {
        return "worker " + process.pid();
    }

    @Override
    public long pid() {
        return process.pid();
    }

    @Override
    public boolean interrupt(long requestId) {
        if (cancelWord != null) {
            cancelWord.target(requestId);
        }
        return process.signal(Signal.INT);
    }

    @Override
    public void sever() {
        process.signal(Signal.KILL);
    }

    @Override
    public void kill() {
        process.signal(Signal.KILL);
        process.awaitExit(Duration.ofSeconds(2));
        closeChannel();
    }

    @Override
    public boolean isAlive() {
        return process.isAlive();
    }

    @Override
    public boolean awaitExit(Duration timeout) {
        return process.awaitExit(timeout);
    }

    @Override
    public String exitDescription() {
        return process.exitDescription();
    }

    @Override
    public List<String> recentOutput(Duration drain) {
        return process.recentStderr(drain);
    }

    @Override
    public void onExit(Runnable action) {
        process.onExit(action);
    }

    /** EOF on the protocol (the worker ends itself), then SIGTERM, then SIGKILL, {@code grace} apart. */
    @Override
    public void shutdown(Duration grace) {
        try {
            channel.shutdownOutput();
        } catch (IOException e) {
            // already closed: the ladder below still ends the process
        }
        if (!process.awaitExit(grace)) {
            process.signal(Signal.TERM);
            if (!process.awaitExit(grace)) {
                process.signal(Signal.KILL);
                process.awaitExit(grace);
            }
        }
        closeChannel();
        process.recentStderr(Duration.ofSeconds(1)); // lets the stderr pump read to its end and close
    }

    private void closeChannel() {
        if (cancelWord != null) {
            cancelWord.close();
        }
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing a socket whose peer is gone
        }
    }

    /**
     * Reads the channel directly: a SocketChannel allows one reader and one writer at once, which the
     * pipelined requests need (streams from {@code Channels} may serialize reads and writes).
     */
    private static final class ChannelInput extends InputStream {
        private final SocketChannel channel;

        ChannelInput(SocketChannel channel) {
            this.channel = channel;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            if (length == 0) {
                return 0;
            }
            int n = channel.read(ByteBuffer.wrap(buffer, offset, length));
            return n == 0 ? read(buffer, offset, length) : n;
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }

    private static final class ChannelOutput extends OutputStream {
        private final SocketChannel channel;

        ChannelOutput(SocketChannel channel) {
            this.channel = channel;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] buffer, int offset, int length) throws IOException {
            ByteBuffer bytes = ByteBuffer.wrap(buffer, offset, length);
            while (bytes.hasRemaining()) {
                channel.write(bytes);
            }
        }

        @Override
        public void close() throws IOException {
            channel.shutdownOutput();
        }
    }
}

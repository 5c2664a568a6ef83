package io.snakebridge.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.snakebridge.shim.ForkedProcess;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A worker on a remote worker server (PROTOCOL.md REMOTE-*): the protocol over its own TLS connection,
 * and a control connection to the server that carries cancels and kills and brings the worker's end.
 * Cancel, the kill ladder and eviction at death behave as for a local worker; its stderr goes to the
 * server's log, and the server sends its last lines with its end (REMOTE-11).
 */
final class RemoteTransport implements Transport {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The exit status of a worker its server closed for idleness (PROTOCOL.md REMOTE-9). */
    static final int IDLE_EXIT_STATUS = 75;

    /**
     * The longest line of a control connection, in bytes: the end event, with the worker's last stderr
     * lines, fits (the server keeps it within 65536, REMOTE-11); one longer is a broken or hostile
     * server, and is not read into memory.
     */
    static final int CONTROL_LINE_MAX = 65536;
    private final HostAndPort host;
    private final long pid;
    private final Socket protocol;
    private final Socket protocolRaw;
    private final Socket control;
    private final Socket controlRaw;
    private final InputStream input;
    private final OutputStream output;
    private final Object controlWrite = new Object();
    private final CountDownLatch ended = new CountDownLatch(1);
    private final CompletableFuture<Void> endedFuture = new CompletableFuture<>();
    private volatile String exitDescription = "running";
    private volatile List<String> stderrTail = List.of();

    RemoteTransport(HostAndPort host, long pid, Socket protocol, Socket protocolRaw, Socket control, Socket controlRaw) throws IOException {
        this.host = host;
        this.pid = pid;
        this.protocol = protocol;
        this.protocolRaw = protocolRaw;
        this.control = control;
        this.controlRaw = controlRaw;
        this.input = protocol.getInputStream();
        this.output = protocol.getOutputStream();
        Thread events = new Thread(this::readControl, "snakebridge-remote-" + host + "-" + pid);
        events.setDaemon(true);
        events.start();
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
        return "worker " + pid + " on " + host;
    }

    /** Not a process of this machine. */
    @Override
    public long pid() {
        return -1;
    }

    /** REMOTE-4: asks the server to interrupt {@code requestId}; false if the control connection is gone. */
    @Override
    public boolean interrupt(long requestId) {
        Map<String, Object> cancel = new LinkedHashMap<>();
        cancel.put("op", "cancel");
        cancel.put("request", requestId);
        return sendControl(cancel);
    }

    /**
     * Cuts the protocol connection at once (a blocked reader sees its end), then asks the server to
     * kill the worker: the cut comes first because a write to the server could wait on the network.
     */
    @Override
    public void sever() {
        closeQuietly(protocolRaw);
        sendControl(Map.of("op", "kill"));
    }

    @Override
    public void kill() {
        sendControl(Map.of("op", "kill"));
        awaitExit(Duration.ofSeconds(2));
        closeQuietly(protocolRaw);
        closeQuietly(controlRaw);
    }

    @Override
    public boolean isAlive() {
        return ended.getCount() > 0;
    }

    @Override
    public boolean awaitExit(Duration timeout) {
        try {
            return ended.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return !isAlive();
        }
    }

    @Override
    public String exitDescription() {
        return exitDescription;
    }

    /**
     * The last stderr lines its server sent with its end (REMOTE-11); none while it runs (they are in
     * the server's log) or when the server or the network is gone.
     */
    @Override
    public List<String> recentOutput(Duration drain) {
        return stderrTail;
    }

    /** End of its input (TLS close_notify: the worker exits 0), then a kill through the server after {@code grace}. */
    @Override
    public void shutdown(Duration grace) {
        try {
            protocol.shutdownOutput();
        } catch (IOException | UnsupportedOperationException e) {
            closeQuietly(protocolRaw); // its end of input all the same
        }
        if (!awaitExit(grace)) {
            sendControl(Map.of("op", "kill"));
            awaitExit(grace);
        }
        closeQuietly(protocolRaw);
        closeQuietly(controlRaw);
    }

    @Override
    public void onExit(Runnable action) {
        endedFuture.thenRunAsync(action);
    }

    private boolean sendControl(Map<String, Object> message) {
        if (!isAlive()) {
            return true; // ended already: nothing left to interrupt or kill
        }
        synchronized (controlWrite) {
            try {
                OutputStream out = control.getOutputStream();
                out.write((JSON.writeValueAsString(message) + "\n").getBytes(StandardCharsets.UTF_8));
                out.flush();
                return true;
            } catch (IOException e) {
                return false;
            }
        }
    }

    /**
     * The control connection's one event, the worker's end (the server's {@code {"signalled": id}} after
     * each cancel is skipped: the engine does not wait for a cancel to land); its close without one
     * means the server or the network is gone.
     */
    private void readControl() {
        String description = null;
        try (InputStream in = new BufferedInputStream(control.getInputStream())) {
            String line;
            while (description == null && (line = boundedLine(in)) != null) {
                JsonNode event = JSON.readTree(line);
                if (event.path("pid").asLong() == pid && (event.has("exit_code") || event.has("signal"))) {
                    description = describeEnd(event);
                    stderrTail = reportedStderr(event.path("stderr")); // before ended: whoever sees the end sees the lines
                }
            }
        } catch (IOException e) {
            description = "lost: the control connection to its server " + host + " broke (" + e.getMessage() + ")";
        }
        exitDescription = description != null ? description : "lost: its server " + host + " closed the control connection";
        ended.countDown();
        closeQuietly(controlRaw); // not the protocol's: what the worker sent before it ended is still to be read
        endedFuture.completeAsync(() -> null);
    }

    /** A worker's end as SRV-4's event tells it; the exit status of REMOTE-9 is the server's idle timeout. */
    private static String describeEnd(JsonNode event) {
        if (event.path("exit_code").isInt() && event.get("exit_code").asInt() == IDLE_EXIT_STATUS) {
            return "closed by its server: no request came within the server's --idle-timeout (exit code " + IDLE_EXIT_STATUS + ")";
        }
        return ForkedProcess.describeExit(event.has("exit_code") ? event.get("exit_code").asInt() : null,
                event.has("signal") ? event.get("signal").asInt() : null);
    }

    /** The text lines of an end event's {@code stderr}, escaped and capped here again (the server is not trusted to have). */
    private static List<String> reportedStderr(JsonNode lines) {
        List<String> texts = new ArrayList<>();
        lines.forEach(line -> {
            if (line.isTextual()) {
                texts.add(line.asText());
            }
        });
        return texts.isEmpty() ? List.of() : List.copyOf(ForkedProcess.reportedStderr(texts));
    }

    /** The next line of the control connection, or null at its end; one past {@link #CONTROL_LINE_MAX} is an error. */
    static String boundedLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        for (int b = in.read(); b != '\n'; b = in.read()) {
            if (b < 0) {
                return line.size() == 0 ? null : line.toString(StandardCharsets.UTF_8);
            }
            if (line.size() == CONTROL_LINE_MAX) {
                throw new IOException("the server sent a control line longer than " + CONTROL_LINE_MAX + " bytes");
            }
            line.write(b);
        }
        return line.toString(StandardCharsets.UTF_8);
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing a socket whose peer is gone
        }
    }
}

package io.snakebridge.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.snakebridge.BridgeConfig;
import io.snakebridge.WorkerStartException;
import io.snakebridge.shim.ForkedProcess;
import io.snakebridge.shim.WorkerProcess;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A worker server this JVM owns (PROTOCOL.md SRV-*): a Python process that imported the preloaded
 * modules once and forks a worker per connection. It is this JVM's child, so it dies with the JVM,
 * and its workers die with it. Its stdout reports each worker's end, which is how a forked worker's
 * exit status reaches the driver.
 */
final class WorkerServer {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int PREAMBLE_MAX = 4096;

    private final WorkerProcess process;
    private final Path socket;
    private final CompletableFuture<Void> ready = new CompletableFuture<>();
    private final Object lock = new Object();
    /** The forked workers still running, and the ends reported before their fork returned (a worker that died at once). */
    private final Map<Long, ForkedProcess> workers = new HashMap<>();
    private final Map<Long, String> endedUnclaimed = new HashMap<>();
    private boolean gone;

    private WorkerServer(WorkerProcess process, Path socket) {
        this.process = process;
        this.socket = socket;
        Thread events = new Thread(this::readEvents, "snakebridge-server-" + process.pid());
        events.setDaemon(true);
        events.start();
    }

    /**
     * Starts a server for {@code config} listening at {@code socket}, and waits for it to be ready
     * (its preloads imported) within {@code startTimeout}.
     */
    static WorkerServer start(BridgeConfig config, Path socket) {
        WorkerProcess process;
        try {
            Files.deleteIfExists(socket); // a dead server's socket file
            process = WorkerProcess.startWithExactEnvironment(WorkerLaunch.serverCommand(config, WorkerSources.directory(), socket),
                    WorkerLaunch.environment(config, System.getenv()));
        } catch (IOException e) {
            throw new WorkerStartException("cannot start a worker server on '" + config.python() + "': " + e.getMessage(), e);
        }
        WorkerServer server = new WorkerServer(process, socket);
        try {
            server.ready.get(config.startTimeout().toMillis(), TimeUnit.MILLISECONDS);
            return server;
        } catch (TimeoutException | ExecutionException e) {
            process.kill();
            String why = e instanceof TimeoutException ? "was not ready within startTimeout=" + config.startTimeout()
                    : "exited (" + process.exitDescription() + ")";
            throw new WorkerStartException("the worker server on '" + config.python() + "' " + why
                    + RequestExecutor.outputExcerpt(process.recentStderr()), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.kill();
            throw new WorkerStartException("interrupted while starting a worker server", e);
        }
    }

    boolean isAlive() {
        synchronized (lock) {
            return !gone && process.isAlive();
        }
    }

    long pid() {
        return process.pid();
    }

    /**
     * A new worker forked for one connection (SRV-2): its protocol on one Unix socket, its stderr on
     * another, its memory limit set in the child before any user code runs.
     *
     * @throws WorkerStartException if the server refuses, does not answer within {@code timeout}, or is gone
     */
    ForkedTransport fork(long memoryLimitBytes, Duration timeout) {
        SocketChannel protocol = null;
        SocketChannel stderr = null;
        ScheduledFuture<?> deadline = null;
        try {
            protocol = SocketChannel.open(UnixDomainSocketAddress.of(socket));
            SocketChannel opened = protocol;
            deadline = Interrupter.WATCHDOG.schedule(() -> closeQuietly(opened), timeout.toMillis(), TimeUnit.MILLISECONDS);
            sendLine(protocol, Map.of("op", "fork", "memory_limit_bytes", memoryLimitBytes));
            String token = field(readLine(protocol), "token").asText();
            stderr = SocketChannel.open(UnixDomainSocketAddress.of(socket));
            sendLine(stderr, Map.of("op", "stderr", "token", token));
            long pid = field(readLine(protocol), "pid").asLong();
            deadline.cancel(false);
            return new ForkedTransport(protocol, register(pid, Channels.newInputStream(stderr)));
        } catch (IOException | RuntimeException e) {
            if (deadline != null) {
                deadline.cancel(false);
            }
            closeQuietly(protocol);
            closeQuietly(stderr);
            if (e instanceof WorkerStartException) {
                throw (WorkerStartException) e;
            }
            throw new WorkerStartException("the worker server " + process.pid() + " did not fork a worker: "
                    + (isAlive() ? e.getMessage() : "it is gone (" + process.exitDescription() + ")"), e);
        }
    }

    private ForkedProcess register(long pid, java.io.InputStream stderr) {
        ForkedProcess worker = ForkedProcess.of(process, pid, stderr);
        synchronized (lock) {
            String endedAlready = endedUnclaimed.remove(pid);
            if (endedAlready != null || gone) {
                worker.ended(endedAlready != null ? endedAlready : lostWithServer());
            } else {
                workers.put(pid, worker);
            }
        }
        return worker;
    }

    /** Ends the server: its workers die with it (PR_SET_PDEATHSIG). */
    void close() {
        process.shutdown(Duration.ofSeconds(2));
    }

    private void readEvents() {
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(process.protocolInput(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = lines.readLine()) != null) {
                JsonNode event = JSON.readTree(line);
                if (event.has("ready")) {
                    ready.complete(null);
                } else if (event.has("pid")) {
                    ended(event.get("pid").asLong(), ForkedProcess.describeExit(
                            event.has("exit_code") ? event.get("exit_code").asInt() : null,
                            event.has("signal") ? event.get("signal").asInt() : null));
                }
            }
        } catch (IOException e) {
            // the server's stdout broke: treated as its end, below
        } finally {
            process.awaitExit(Duration.ofSeconds(1));
            synchronized (lock) {
                gone = true;
                workers.values().forEach(worker -> worker.ended(lostWithServer()));
                workers.clear();
            }
            ready.completeExceptionally(new IOException("the worker server exited"));
        }
    }

    private void ended(long pid, String description) {
        synchronized (lock) {
            ForkedProcess worker = workers.remove(pid);
            if (worker != null) {
                worker.ended(description);
            } else {
                endedUnclaimed.put(pid, description);
            }
        }
    }

    private String lostWithServer() {
        return "killed with its worker server " + process.pid() + " (" + process.exitDescription() + ")";
    }

    private static void sendLine(SocketChannel channel, Map<String, Object> message) throws IOException {
        ByteBuffer bytes = ByteBuffer.wrap((JSON.writeValueAsString(message) + "\n").getBytes(StandardCharsets.UTF_8));
        while (bytes.hasRemaining()) {
            channel.write(bytes);
        }
    }

    /** One preamble line, byte by byte: what follows it on the protocol connection is the worker's. */
    private static JsonNode readLine(SocketChannel channel) throws IOException {
        ByteBuffer one = ByteBuffer.allocate(1);
        java.io.ByteArrayOutputStream line = new java.io.ByteArrayOutputStream();
        while (true) {
            one.clear();
            if (channel.read(one) < 0) {
                throw new IOException("the worker server closed the connection");
            }
            byte b = one.get(0);
            if (b == '\n') {
                return JSON.readTree(line.toByteArray());
            }
            if (line.size() == PREAMBLE_MAX) {
                throw new IOException("the worker server's answer is too long");
            }
            line.write(b);
        }
    }

    private static JsonNode field(JsonNode reply, String name) throws IOException {
        if (reply.has("error")) {
            throw new IOException("refused: " + reply.get("error").asText());
        }
        if (!reply.has(name)) {
            throw new IOException("unexpected answer " + reply);
        }
        return reply.get(name);
    }

    private static void closeQuietly(SocketChannel channel) {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // nothing to do: it is being discarded
            }
        }
    }
}

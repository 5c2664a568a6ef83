package io.snakebridge.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.snakebridge.BridgeConfig;
import io.snakebridge.WorkerStartException;
import io.snakebridge.shim.CancelWord;
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
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(WorkerServer.class);
    private static final int PREAMBLE_MAX = 4096;

    private final WorkerProcess process;
    private final Path socket;
    private final CompletableFuture<Void> ready = new CompletableFuture<>();
    private final Object lock = new Object();
    /** The forked workers still running, and the ends reported before their fork returned (a worker that died at once). */
    private final Map<Long, ForkedProcess> workers = new HashMap<>();
    private final Map<Long, Unclaimed> endedUnclaimed = new HashMap<>();
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
                    + WorkerOutput.excerpt(process.recentStderr()), e);
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
     * another, its memory limit set in the child before any user code runs, and the {@code cancelWord}
     * (if any) that its interrupts name their request in (CANCEL-2).
     *
     * @throws WorkerStartException if the server refuses, does not answer within {@code timeout}, or is gone
     */
    ForkedTransport fork(long memoryLimitBytes, Duration timeout, CancelWord cancelWord) {
        SocketChannel[] channels = new SocketChannel[2]; // the protocol's, the stderr's: the watchdog closes both
        ScheduledFuture<?> deadline = Interrupter.WATCHDOG.schedule(() -> closeAll(channels), timeout.toMillis(), TimeUnit.MILLISECONDS);
        try {
            SocketChannel protocol = channels[0] = SocketChannel.open(UnixDomainSocketAddress.of(socket));
            Map<String, Object> preamble = new HashMap<>(Map.of("op", "fork", "memory_limit_bytes", memoryLimitBytes));
            if (cancelWord != null) {
                preamble.put("cancel_word", cancelWord.file().toString()); // the worker maps it (CANCEL-2)
            }
            sendLine(protocol, preamble);
            String token = field(readLine(protocol), "token").asText();
            SocketChannel stderr = channels[1] = SocketChannel.open(UnixDomainSocketAddress.of(socket));
            sendLine(stderr, Map.of("op", "stderr", "token", token));
            long pid = pidIn(field(readLine(protocol), "pid"));
            deadline.cancel(false);
            return new ForkedTransport(protocol, register(pid, Channels.newInputStream(stderr)), cancelWord);
        } catch (IOException | RuntimeException e) {
            deadline.cancel(false);
            closeAll(channels);
            if (e instanceof WorkerStartException) {
                throw (WorkerStartException) e;
            }
            throw new WorkerStartException("the worker server " + process.pid() + " did not fork a worker: "
                    + (isAlive() ? e.getMessage() : "it is gone (" + process.exitDescription() + ")"), e);
        }
    }

    /**
     * A worker's pid as the server sent it, if it can be one: it is signalled by this number, and
     * 0, -1 or this JVM's own would signal a whole group or every process the user has.
     */
    static long pidIn(JsonNode pid) throws IOException {
        if (!pid.isIntegralNumber() || !pid.canConvertToInt() || pid.intValue() <= 1 || pid.intValue() == ProcessHandle.current().pid()) {
            throw new IOException("the worker server sent " + pid + " as a worker's pid");
        }
        return pid.intValue();
    }

    private ForkedProcess register(long pid, java.io.InputStream stderr) {
        ForkedProcess worker = ForkedProcess.of(process, pid, stderr);
        synchronized (lock) {
            Unclaimed unclaimed = endedUnclaimed.remove(pid);
            String endedAlready = unclaimed == null ? null : unclaimed.description;
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
                take(line);
            }
        } catch (IOException e) {
            // the server's event stream broke: treated as its end, below
        } finally {
            // Without its events no worker's end can be known: a server that lives on would make
            // "lost with its server" untrue, so it goes (and its workers with it).
            process.kill();
            synchronized (lock) {
                gone = true;
                workers.values().forEach(worker -> worker.ended(lostWithServer()));
                workers.clear();
            }
            ready.completeExceptionally(new IOException("the worker server exited"));
        }
    }

    /** One event line (SRV-1, SRV-4); a line that is not one is logged and skipped. */
    private void take(String line) {
        try {
            JsonNode event = JSON.readTree(line);
            if (event.has("ready")) {
                ready.complete(null);
            } else if (event.has("pid") && (event.has("exit_code") || event.has("signal"))) {
                ended(pidIn(event.get("pid")), ForkedProcess.describeExit(
                        event.has("exit_code") ? event.get("exit_code").asInt() : null,
                        event.has("signal") ? event.get("signal").asInt() : null));
            } else {
                throw new IOException("not an event");
            }
        } catch (IOException e) {
            LOG.warn("SnakeBridge: worker server {} wrote an event that is not one ({}): {}", process.pid(), e.getMessage(),
                    line.length() > 200 ? line.substring(0, 200) + "..." : line);
        }
    }

    private void ended(long pid, String description) {
        synchronized (lock) {
            ForkedProcess worker = workers.remove(pid);
            if (worker != null) {
                worker.ended(description);
                return;
            }
            // Its fork was abandoned (or is about to register): kept briefly, since pids are reused.
            long now = System.nanoTime();
            endedUnclaimed.values().removeIf(old -> now - old.at > UNCLAIMED_NANOS);
            endedUnclaimed.put(pid, new Unclaimed(description, now));
        }
    }

    private static final long UNCLAIMED_NANOS = TimeUnit.SECONDS.toNanos(10);

    /** The end of a worker no fork has registered yet, and when it was reported. */
    private record Unclaimed(String description, long at) {
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

    private static void closeAll(SocketChannel[] channels) {
        for (SocketChannel channel : channels) {
            if (channel != null) {
                try {
                    channel.close();
                } catch (IOException ignored) {
                    // nothing to do: it is being discarded
                }
            }
        }
    }
}

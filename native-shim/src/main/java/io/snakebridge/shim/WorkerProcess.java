package io.snakebridge.shim;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One supervised worker process: spawn, protocol streams, stderr capture, signals, shutdown.
 * Knows nothing of the protocol.
 */
public final class WorkerProcess implements AutoCloseable {
    // One logger for all workers (the pid is in every line): a logger per pid would never be freed.
    private static final Logger WORKER_LOG = LoggerFactory.getLogger("io.snakebridge.worker");
    private static final int STDERR_TAIL_LINES = 40;

    private final Process process;
    private final ArrayDeque<String> stderrTail = new ArrayDeque<>();
    private final Thread stderrPump;

    private WorkerProcess(Process process) {
        this.process = process;
        this.stderrPump = new Thread(this::pumpStderr, "snakebridge-stderr-" + process.pid());
        stderrPump.setDaemon(true);
        stderrPump.start();
    }

    /** Starts {@code command} with {@code environment} added to this JVM's environment. */
    public static WorkerProcess start(List<String> command, Map<String, String> environment) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().putAll(environment);
        return new WorkerProcess(builder.start());
    }

    public long pid() {
        return process.pid();
    }

    /** The worker's protocol output (its stdout). */
    public InputStream protocolInput() {
        return process.getInputStream();
    }

    /** The worker's protocol input (its stdin). */
    public OutputStream protocolOutput() {
        return process.getOutputStream();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** Waits up to {@code timeout} for the process to end; returns whether it has. */
    public boolean awaitExit(Duration timeout) {
        try {
            return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return !process.isAlive();
        }
    }

    /** How the process ended ("exit code 3", "killed by SIGKILL"), or "running". */
    public String exitDescription() {
        if (process.isAlive()) {
            return "running";
        }
        int status = process.exitValue();
        // java.lang.Process reports death by signal N as 128 + N.
        return status > 128 ? "killed by " + Signal.nameOf(status - 128) : "exit code " + status;
    }

    /** The last lines the worker wrote to stderr (a bounded tail, for diagnosis). */
    public List<String> recentStderr() {
        synchronized (stderrTail) {
            return new ArrayList<>(stderrTail);
        }
    }

    /** Waits briefly for the stderr pump to drain what a dead process left in the pipe. */
    public void drainStderr(Duration timeout) {
        try {
            stderrPump.join(timeout.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Sends {@code signal}. Returns false when signals are unavailable on this platform; then
     * TERM and KILL fall back to {@link Process#destroy()} and {@link Process#destroyForcibly()}.
     */
    public boolean signal(Signal signal) {
        if (!process.isAlive()) {
            return true;
        }
        if (Posix.LIBC != null) {
            return Posix.LIBC.kill((int) process.pid(), signal.number()) == 0;
        }
        switch (signal) {
            case TERM: process.destroy(); return true;
            case KILL: process.destroyForcibly(); return true;
            default: return false;
        }
    }

    /**
     * Lets the worker exit by EOF on its input; after {@code grace} sends SIGTERM, after another
     * {@code grace} SIGKILL. Returns when the process has ended.
     */
    public void shutdown(Duration grace) {
        closeQuietly(process.getOutputStream());
        if (!awaitExit(grace)) {
            signal(Signal.TERM);
            if (!awaitExit(grace)) {
                signal(Signal.KILL);
                awaitExit(Duration.ofSeconds(10));
            }
        }
        closeQuietly(process.getInputStream());
    }

    /** Ends the worker at once (SIGKILL) and reaps it. */
    public void kill() {
        signal(Signal.KILL);
        awaitExit(Duration.ofSeconds(10));
        closeQuietly(process.getOutputStream());
        closeQuietly(process.getInputStream());
    }

    @Override
    public void close() {
        shutdown(Duration.ofSeconds(2));
    }

    private void pumpStderr() {
        try (BufferedReader reader = new BufferedReader(
                new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null) {
                WORKER_LOG.info("[worker {}] {}", process.pid(), line);
                synchronized (stderrTail) {
                    if (stderrTail.size() == STDERR_TAIL_LINES) {
                        stderrTail.removeFirst();
                    }
                    stderrTail.addLast(line);
                }
            }
        } catch (IOException e) {
            WORKER_LOG.debug("[worker {}] stderr closed: {}", process.pid(), e.toString());
        }
    }

    private static void closeQuietly(AutoCloseable closeable) {
        try {
            closeable.close();
        } catch (Exception ignored) {
            // the process is going away; nothing to do with a failed close of its pipe
        }
    }
}

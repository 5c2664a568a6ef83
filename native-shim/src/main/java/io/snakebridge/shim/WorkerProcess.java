package io.snakebridge.shim;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.LoggerFactory;

/**
 * One supervised worker process: spawn, protocol streams, stderr capture, signals, shutdown.
 * Knows nothing of the protocol. Public: it is its own artifact, used by the driver's child-process
 * transport and by the conformance suite's protocol client.
 */
public final class WorkerProcess implements AutoCloseable {
    private static final Duration STDERR_EOF_WAIT = Duration.ofSeconds(1);
    /**
     * Every worker is spawned from this one thread, which lives as long as the JVM: Linux delivers
     * a worker's parent-death signal when the *thread* that spawned it ends, so spawning from a
     * short-lived thread (a pool's adder thread, say) would kill the worker with that thread.
     */
    private static final ExecutorService SPAWNER = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "snakebridge-spawner");
        t.setDaemon(true);
        return t;
    });
    private static volatile boolean memoryLimitWarned;

    private final Process process;
    private final String logNonce;
    private final StderrPump stderr;
    private final Thread stderrThread;

    private WorkerProcess(Process process, String logNonce, StderrPump.LogSink log) {
        this.process = process;
        this.logNonce = logNonce;
        this.stderr = new StderrPump(process.getErrorStream(), process.pid(), logNonce, log);
        this.stderrThread = new Thread(stderr, "snakebridge-stderr-" + process.pid());
        stderrThread.setDaemon(true);
        stderrThread.start();
    }

    /**
     * Starts {@code command} with {@code environment} added to this JVM's environment, plus
     * {@code SNAKEBRIDGE_PARENT_PID} so the worker can tell whether its parent died before it could
     * arrange to die with it, and {@code SNAKEBRIDGE_LOG_NONCE}, with which it marks its log records.
     * Its stderr is logged through SLF4J under {@code io.snakebridge.worker} (README: Supervision).
     */
    public static WorkerProcess start(List<String> command, Map<String, String> environment) throws IOException {
        return start(command, environment, StderrPump.LogSink.SLF4J);
    }

    static WorkerProcess start(List<String> command, Map<String, String> environment, StderrPump.LogSink log) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().putAll(environment);
        return spawn(builder, log);
    }

    /**
     * Starts {@code command} with exactly {@code environment}, plus {@code SNAKEBRIDGE_PARENT_PID}
     * and {@code SNAKEBRIDGE_LOG_NONCE}: nothing of this JVM's own environment (its secrets, its
     * interpreter settings) reaches the process. The command is still looked up on this JVM's {@code PATH}.
     */
    public static WorkerProcess startWithExactEnvironment(List<String> command, Map<String, String> environment) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().clear();
        builder.environment().putAll(environment);
        return spawn(builder, StderrPump.LogSink.SLF4J);
    }

    private static WorkerProcess spawn(ProcessBuilder builder, StderrPump.LogSink log) throws IOException {
        builder.environment().put("SNAKEBRIDGE_PARENT_PID", Long.toString(ProcessHandle.current().pid()));
        String logNonce = StderrPump.newNonce();
        builder.environment().put(StderrPump.NONCE_VARIABLE, logNonce);
        try {
            return new WorkerProcess(SPAWNER.submit(builder::start).get(), logNonce, log);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException) {
                throw (IOException) e.getCause();
            }
            throw new IOException("cannot start " + builder.command(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while starting " + builder.command(), e);
        }
    }

    /** Whether {@link #signal} can send SIGINT here (JNA and libc loaded, a POSIX system). */
    public static boolean signalsSupported() {
        return Posix.LIBC != null;
    }

    /**
     * Caps the worker's address space (RLIMIT_AS), so that an allocation over it fails inside the
     * worker (Python raises MemoryError) instead of exhausting the machine. Returns false, after
     * saying so once in the log, where prlimit is unavailable.
     */
    public boolean limitAddressSpace(long bytes) {
        if (Posix.LIBC != null) {
            Posix.Rlimit limit = new Posix.Rlimit();
            limit.rlim_cur = bytes;
            limit.rlim_max = bytes;
            try {
                if (Posix.LIBC.prlimit((int) process.pid(), Posix.RLIMIT_AS, limit, null) == 0) {
                    return true;
                }
            } catch (UnsatisfiedLinkError e) {
                // not Linux: fall through to the warning
            }
        }
        if (!memoryLimitWarned) {
            memoryLimitWarned = true;
            LoggerFactory.getLogger(WorkerProcess.class).warn("SnakeBridge: cannot set a memory limit on this platform; workers run without one");
        }
        return false;
    }

    public long pid() {
        return process.pid();
    }

    /** Runs {@code action} once, on a JDK thread, when the process has ended (at once if it has). */
    public void onExit(Runnable action) {
        process.onExit().thenRun(action);
    }

    /** The nonce this process marks its log records with; a worker server's forked workers inherit it. */
    String logNonce() {
        return logNonce;
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

    /** The last lines the worker wrote to stderr (a bounded tail, escaped and capped as they are logged, for diagnosis). */
    public List<String> recentStderr() {
        return stderr.tail();
    }

    /** Waits briefly for the stderr pump to drain what a dead process left in the pipe. */
    public void drainStderr(Duration timeout) {
        try {
            stderrThread.join(timeout.toMillis());
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
     * {@code grace} SIGKILL. Returns when the process has ended and its pipes and stderr pump are gone.
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
        releasePipes();
    }

    /** Ends the worker at once (SIGKILL) and reaps it, its pipes and its stderr pump. */
    public void kill() {
        signal(Signal.KILL);
        awaitExit(Duration.ofSeconds(10));
        closeQuietly(process.getOutputStream());
        releasePipes();
    }

    /**
     * Closes stdout and waits for the stderr pump to read EOF and close stderr, so a closed worker
     * holds no descriptor or thread once its close returns (the pump ends at once after exit,
     * unless a grandchild still holds the pipe: hence the bound).
     */
    private void releasePipes() {
        closeQuietly(process.getInputStream());
        drainStderr(STDERR_EOF_WAIT);
    }

    @Override
    public void close() {
        shutdown(Duration.ofSeconds(2));
    }

    private static void closeQuietly(AutoCloseable closeable) {
        try {
            closeable.close();
        } catch (Exception ignored) {
            // the process is going away; nothing to do with a failed close of its pipe
        }
    }
}

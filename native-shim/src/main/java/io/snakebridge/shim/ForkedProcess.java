package io.snakebridge.shim;

import java.io.IOException;
import java.io.InputStream;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A worker that a worker server forked: not this JVM's child, so it is signalled by pid and its end
 * is learned from the server (which reaps it) rather than from {@code waitpid}. Its stderr arrives
 * on a stream of its own and is logged like a spawned worker's, under its pid.
 */
public final class ForkedProcess {
    private final long pid;
    private final StderrPump stderr;
    private final Thread stderrThread;
    private final CountDownLatch ended = new CountDownLatch(1);
    private final java.util.concurrent.CompletableFuture<Void> endedFuture = new java.util.concurrent.CompletableFuture<>();
    private volatile String exitDescription = "running";

    private ForkedProcess(long pid, InputStream stderrStream, String logNonce) {
        this.pid = pid;
        this.stderr = new StderrPump(stderrStream, pid, logNonce, StderrPump.LogSink.SLF4J);
        this.stderrThread = new Thread(stderr, "snakebridge-stderr-" + pid);
        stderrThread.setDaemon(true);
        stderrThread.start();
    }

    /** The worker {@code pid} that {@code server} forked, whose stderr is {@code stderrStream}. */
    public static ForkedProcess of(WorkerProcess server, long pid, InputStream stderrStream) {
        return new ForkedProcess(pid, stderrStream, server.logNonce());
    }

    public long pid() {
        return pid;
    }

    /** The server reaped it ("exit code 0", "killed by SIGKILL") or the server itself is gone. */
    public void ended(String description) {
        exitDescription = description;
        ended.countDown();
        endedFuture.completeAsync(() -> null); // listeners run off the server's event thread
    }

    /** Runs {@code action} once, on another thread, when it has been reported ended (at once if it has). */
    public void onExit(Runnable action) {
        endedFuture.thenRunAsync(action);
    }

    public boolean isAlive() {
        return ended.getCount() > 0;
    }

    /** {@code kill(2)} while it has not been reported ended (after that its pid may be another process's). */
    public boolean signal(Signal signal) {
        if (!isAlive()) {
            return true;
        }
        return Posix.LIBC != null && Posix.LIBC.kill((int) pid, signal.number()) == 0;
    }

    public boolean awaitExit(Duration timeout) {
        try {
            return ended.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return !isAlive();
        }
    }

    /** How it ended, or "running". */
    public String exitDescription() {
        return exitDescription;
    }

    /** The last lines it wrote to stderr, after waiting up to {@code drain} for what is still in flight. */
    public List<String> recentStderr(Duration drain) {
        try {
            stderrThread.join(drain.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return stderr.tail();
    }

    /**
     * The stderr lines a remote worker server reported with a worker's end (PROTOCOL.md REMOTE-11), made
     * as safe as a local worker's: a server is another machine, so its lines are escaped and capped
     * again here as {@link StderrPump} does (room is left for the note of a cut the server made), a
     * line holding newlines becomes several, and only the last {@link StderrPump#TAIL_LINES} are kept.
     *
     * @param reported the lines as the server sent them, oldest first
     * @return the lines, oldest first
     */
    public static List<String> reportedStderr(List<String> reported) {
        ArrayDeque<String> tail = new ArrayDeque<>();
        try {
            for (String text : reported) {
                CappedLineReader reader = new CappedLineReader(new StringReader(text), StderrPump.MAX_LINE_CHARS + CUT_NOTE_ROOM);
                for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                    if (tail.size() == StderrPump.TAIL_LINES) {
                        tail.removeFirst();
                    }
                    tail.addLast(line);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("a StringReader cannot fail", e);
        }
        return new ArrayList<>(tail);
    }

    /** Characters beyond the cap for " ... [N chars cut] ... ", which a server's capped line carries. */
    private static final int CUT_NOTE_ROOM = 64;

    /** "exit code 3" or "killed by SIGKILL", from a {@code waitpid} status the server reported. */
    public static String describeExit(Integer exitCode, Integer signal) {
        return signal != null ? "killed by " + Signal.nameOf(signal) : "exit code " + exitCode;
    }
}

package io.snakebridge.conformance;

import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The worker under test as the suite reaches it: a process it started (frames over stdin and stdout,
 * SIGINT by pid) or a worker a remote server forked for it (frames over TLS, cancels and kills through
 * the server's control connection, REMOTE-4). Tests see the difference only where a rule is about a
 * local process, and report those rules as not applicable to a remote worker.
 */
interface WorkerLink {
    InputStream input();

    OutputStream output();

    /** The worker's process id as its handshake must report it (HS-3): the child's, or the one its server announced. */
    long pid();

    /** Whether the worker is a process of this machine that the suite started (its pid can be looked up here). */
    boolean isLocalProcess();

    /** Asks for a SIGINT aimed at {@code requestId} (CANCEL-2): the cancel word then the signal, or the server's control connection. */
    void interrupt(long requestId);

    /**
     * Waits until the SIGINT for {@code requestId} has landed: a local worker declaring
     * {@code cancel_target} writes its target back into its cancel word; for one without, the signal
     * is pending once sent; a remote server says so with {@code {"signalled": id}} (REMOTE-4).
     */
    void awaitInterruptTaken(long requestId, boolean declaresCancelTarget);

    /** The cancel word's file, or null where the suite does not make it (a remote server makes its workers' own). */
    Path cancelWordFile();

    /** Ends the worker's input: end-of-file between frames (FRAME-5), or inside one (FRAME-4). */
    void closeInput();

    boolean isAlive();

    boolean awaitExit(Duration timeout);

    /** How the worker ended ("exit code 3", "killed by SIGKILL"), or "running". */
    String exitDescription();

    /** Kills the worker at once. */
    void kill();

    /** Ends the worker (end of input, then a kill) and releases what the link holds. */
    void close();
}

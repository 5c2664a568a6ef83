package io.snakebridge.internal;

import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.List;

/**
 * What the engine needs from "a worker at the other end": its protocol streams, a way to interrupt
 * the running call, to stop it, and to say why it is gone. The engine never asks which kind it has.
 */
interface Transport {
    InputStream input();

    OutputStream output();

    /** How messages name the worker, e.g. {@code "worker 4242"}. */
    String name();

    /** The worker's process id, or -1 when it is not a process of this machine. */
    long pid();

    /**
     * Interrupts request {@code requestId} (KeyboardInterrupt in its Python code, PROTOCOL.md
     * CANCEL-3; the worker drops it if that request has answered); false if this transport cannot. A
     * local worker is signalled once its cancel word names the request; a remote one's server is told
     * the id (REMOTE-4) and does the same.
     */
    boolean interrupt(long requestId);

    /** Cuts the worker off at once without waiting for it (safe on a timer thread): a blocked reader sees the end of its stream. */
    void sever();

    /** Stops the worker at once and waits until it and its streams are gone. */
    void kill();

    boolean isAlive();

    /** Waits up to {@code timeout} for the worker to end; true if it has. */
    boolean awaitExit(Duration timeout);

    /** How the worker ended ("exited with code 1", "killed by SIGKILL"), or that it is still running. */
    String exitDescription();

    /** The last lines of the worker's diagnostic output, after waiting up to {@code drain} for more. */
    List<String> recentOutput(Duration drain);

    /** Ends the worker gently (end of its input), then firmly after {@code grace}. */
    void shutdown(Duration grace);

    /** Runs {@code action} once, on another thread, as soon as the worker process is known to have ended. */
    void onExit(Runnable action);
}

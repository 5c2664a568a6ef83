package io.snakebridge;

import java.util.List;

/** The worker died, closed its stream or was killed (SQLState 08006); carries how it ended and its last stderr lines. */
public class WorkerCrashedException extends BridgeException {
    private static final long serialVersionUID = 1L;

    /** How the worker ended. */
    private final String exitDescription;
    /** The worker's last stderr lines. */
    private final List<String> stderrTail;

    /**
     * Creates the exception.
     *
     * @param message what the connection was doing when the worker ended
     * @param exitDescription how the worker ended, e.g. {@code "exit code 1"}
     * @param stderrTail the last lines the worker wrote to stderr (copied)
     * @param cause the I/O error that revealed the end, or null
     */
    public WorkerCrashedException(String message, String exitDescription, List<String> stderrTail, Throwable cause) {
        super("worker_crashed", "08006", message, cause);
        this.exitDescription = exitDescription;
        this.stderrTail = List.copyOf(stderrTail);
    }

    /**
     * How the worker ended.
     *
     * @return e.g. {@code "exit code 1"} or {@code "killed by SIGKILL"}
     */
    public String exitDescription() {
        return exitDescription;
    }

    /**
     * The last lines the worker wrote to stderr (faulthandler's traceback on a segfault).
     *
     * @return the lines, oldest first; unmodifiable, possibly empty
     */
    public List<String> stderrTail() {
        return stderrTail;
    }
}

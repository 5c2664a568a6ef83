package io.snakebridge;

/**
 * A call of a {@link Batch} could not run because a promise it used belongs to a call that failed
 * (SQLState 25000, like a statement refused after an earlier failure). Its cause is that call's
 * error.
 */
public class DependencyFailedException extends BridgeException {
    private static final long serialVersionUID = 1L;
    /** The index of the failed call depended on, or -1. */
    private final int failedIndex;

    /**
     * Creates the exception.
     *
     * @param failedIndex the index, in its batch, of the failed call this one depended on (-1 if unknown)
     * @param message which promise could not be used
     * @param failedCallError the failed call's error, or null if it is not known here
     */
    public DependencyFailedException(int failedIndex, String message, Throwable failedCallError) {
        super("dependency_failed", "25000", message, failedCallError);
        this.failedIndex = failedIndex;
    }

    /**
     * The failed call this one depended on.
     *
     * @return its index in the batch, or -1 if the worker did not say
     */
    public int failedIndex() {
        return failedIndex;
    }
}

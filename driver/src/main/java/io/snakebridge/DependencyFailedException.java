package io.snakebridge;

/**
 * A call of a {@link Batch} could not run because a promise it used belongs to a call that failed
 * (SQLState 25000, like a statement refused after an earlier failure). Its cause is that call's
 * error.
 */
public class DependencyFailedException extends BridgeException {
    private static final long serialVersionUID = 1L;
    private final int failedIndex;

    public DependencyFailedException(int failedIndex, String message, Throwable failedCallError) {
        super("dependency_failed", "25000", message, failedCallError);
        this.failedIndex = failedIndex;
    }

    /** The index, in its batch, of the failed call this one depended on. */
    public int failedIndex() {
        return failedIndex;
    }
}

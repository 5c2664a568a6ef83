package io.snakebridge;

/**
 * The result-to-be of one call of a {@link Batch}. Before {@link Batch#execute()} it can be passed
 * as an argument or target of later calls of the same batch, which then get the Python object
 * itself, without a round trip (promise pipelining). After it, {@link #get()} gives the call's
 * result or throws its error.
 */
public final class Promise {
    private final Batch batch;
    private final int index;
    private boolean discardResult;
    private PyValue value;
    private BridgeException error;

    Promise(Batch batch, int index) {
        this.batch = batch;
        this.index = index;
    }

    /**
     * Keeps the result in Python for later calls of the batch only: it is not sent back, so an object
     * that would have come back as a ref does not become one. {@link #get()} then gives None.
     *
     * @return this promise
     * @throws IllegalStateException if the batch has been executed
     */
    public Promise discardResult() {
        batch.checkNotExecuted();
        discardResult = true;
        return this;
    }

    /**
     * The position of this call in its batch.
     *
     * @return the index, from 0
     */
    public int index() {
        return index;
    }

    /**
     * Whether the batch has run and this call succeeded.
     *
     * @return true if {@link #get()} gives a result
     */
    public boolean isOk() {
        return value != null;
    }

    /**
     * The call's result.
     *
     * @return the result, decoded as {@link BridgeConnection#call} would decode it
     * @throws BridgeException the call's own error if it failed, e.g. a {@link PythonException}
     *         (SQLState 38000) or a {@link DependencyFailedException} (SQLState 25000)
     * @throws IllegalStateException if the batch has not been executed
     */
    public PyValue get() {
        if (error != null) {
            throw error;
        }
        if (value == null) {
            throw new IllegalStateException("call " + index + " has no result yet: execute() its batch first");
        }
        return value;
    }

    /**
     * The call's error.
     *
     * @return the error {@link #get()} throws, or null if the call succeeded or has not run
     */
    public BridgeException error() {
        return error;
    }

    Batch batch() {
        return batch;
    }

    boolean discardsResult() {
        return discardResult;
    }

    void complete(PyValue result) {
        value = result;
    }

    void fail(BridgeException failure) {
        error = failure;
    }

    @Override
    public String toString() {
        return "Promise[" + index + (value != null ? " = " + value : error != null ? " failed: " + error.getMessage() : "") + "]";
    }
}

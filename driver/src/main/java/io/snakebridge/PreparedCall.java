package io.snakebridge;

import java.util.List;

/**
 * A callable resolved once in Python, as JDBC's {@code PreparedStatement} is parsed once: the worker
 * finds the function and checks the session's module policy when it is prepared, and each call then
 * sends only its arguments. Calls with many argument sets go in one round trip with
 * {@link #addBatch} and {@link #executeBatch()}, the worker running them in a tight loop.
 *
 * <pre>{@code
 * try (PreparedCall sqrt = py.prepare("math.sqrt")) {
 *     double root = sqrt.call(2.0).asDouble();
 *     for (double x : inputs) {
 *         sqrt.addBatch(x);
 *     }
 *     double[] roots = sqrt.executeBatch(double[].class);
 * }
 * }</pre>
 *
 * A prepared call lives in its session like a {@link RefHandle}: {@link #close()} releases it, and
 * it ends with its connection and with a session reset (a pooled connection's return), after which
 * it fails fast without a round trip. It is counted among the session's refs ({@code maxRefs}).
 * Like a {@link Batch}, it is used by one thread at a time.
 */
public interface PreparedCall extends AutoCloseable {

    /**
     * The name it calls.
     *
     * @return the dotted name (or, prepared on a {@link RefHandle}, the method path) it was prepared with
     */
    String name();

    /**
     * Calls it once with {@code args}, as {@link BridgeConnection#call} would.
     *
     * @param args the positional arguments: values, {@link RefHandle}s of this connection, or callbacks
     * @return the result
     * @throws InvalidRefException (24000) if it was closed, or its connection closed
     * @throws RefNotFoundException (34000) if its session was reset or released
     * @throws PythonException (38000) if Python raised
     * @throws BridgeClosedException (08003) if the connection is broken
     */
    PyValue call(Object... args);

    /**
     * Adds one set of arguments to the batch that {@link #executeBatch()} sends, without a round trip.
     *
     * @param args the positional arguments of one call (encoded when the batch is executed)
     * @return this prepared call, to chain {@code addBatch} calls
     * @throws InvalidRefException (24000) if it was closed, or its connection closed
     */
    PreparedCall addBatch(Object... args);

    /**
     * How many argument sets are waiting.
     *
     * @return the argument sets added since the last {@code executeBatch} or {@link #clearBatch()}
     */
    int batchSize();

    /** Drops the argument sets added so far, without a round trip. */
    void clearBatch();

    /**
     * Runs the batch in one round trip and returns each row's result, in the order added, then
     * empties the batch (as JDBC does). Arguments travel column by column: the numbers of one
     * argument position as one array. Every row runs even if some fail; if any failed, this throws
     * a {@link PreparedBatchException} that carries each failed row's index and error and the
     * other rows' results. A cancel or a timeout ends the whole batch.
     *
     * @return each row's result, in the order the rows were added (empty for an empty batch, without
     *         a round trip)
     * @throws PreparedBatchException if some rows failed (the SQLState of the first failure)
     * @throws CallCancelledException (57014) if it was cancelled while it ran
     * @throws InvalidRefException (24000) if it was closed, or its connection closed
     * @throws RefNotFoundException (34000) if its session was reset or released
     */
    List<PyValue> executeBatch();

    /**
     * Runs the batch in one round trip and returns the results as one primitive array:
     * {@code double[].class}, {@code float[].class}, {@code long[].class}, {@code int[].class} or
     * {@code boolean[].class}. A row whose result is not a number of that type fails with
     * {@link InvalidValueException}, reported as {@link #executeBatch()} reports a row's error.
     *
     * @param <T> the array type
     * @param arrayType {@code double[].class}, {@code float[].class}, {@code long[].class},
     *        {@code int[].class} or {@code boolean[].class}
     * @return one element per row, in the order the rows were added
     * @throws IllegalArgumentException for another array type
     * @throws PreparedBatchException if some rows failed; its results hold 0 (false) at their index
     * @throws CallCancelledException (57014) if it was cancelled while it ran
     */
    <T> T executeBatch(Class<T> arrayType);

    /**
     * Whether it can no longer be called.
     *
     * @return true once it was closed, or its session or connection ended
     */
    boolean isClosed();

    /** Releases it in the worker. Idempotent; never throws. */
    @Override
    void close();
}

package io.snakebridge;

import io.snakebridge.internal.Request;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Python iterator read like a JDBC cursor: items arrive in batches of {@code fetchSize}, one round
 * trip per batch. Close it (or the {@link #stream()}) when done: closing early closes a Python
 * generator, so its {@code finally} blocks run, and releases the iterator.
 *
 * <pre>{@code
 * try (PyCursor rows = py.callRef("mymodule.read_rows").iterate(1_000)) {
 *     while (rows.hasNext()) { handle(rows.next()); }
 * }
 * }</pre>
 */
public final class PyCursor implements Iterator<Object>, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PyCursor.class);

    private final Ref iterator;
    private final Ref iterable; // the object the iterator reads, when this cursor owns it too; else null
    private final int fetchSize;
    private List<Object> batch = List.of();
    private int position;
    private boolean exhausted;
    private BridgeException pendingError; // raised by the iterator after the items of the last batch
    private boolean closed;

    PyCursor(Ref iterator, int fetchSize, Ref ownedIterable) {
        this.iterator = iterator;
        this.fetchSize = fetchSize;
        this.iterable = ownedIterable;
    }

    static void checkFetchSize(int fetchSize) {
        if (fetchSize < 1) {
            throw new IllegalArgumentException("fetchSize must be >= 1, got " + fetchSize);
        }
    }

    /**
     * Whether another item remains, fetching the next batch of {@code fetchSize} items if this one is used up.
     *
     * @return true if {@link #next()} has an item
     * @throws PythonException if the iterator raised (SQLState 38000); the items it yielded before
     *         that are returned first
     * @throws InvalidRefException if the cursor is closed (SQLState 24000)
     * @throws RefNotFoundException if the iterator is gone, e.g. its connection was reset (SQLState 34000)
     */
    @Override
    public boolean hasNext() {
        if (closed) {
            throw new InvalidRefException(InvalidRefException.Reason.CLOSED_HANDLE, "the cursor is closed");
        }
        while (position == batch.size() && !exhausted) {
            fetch();
        }
        if (position == batch.size() && pendingError != null) {
            BridgeException error = pendingError;
            pendingError = null;
            throw error;
        }
        return position < batch.size();
    }

    /**
     * The next item, fetching the next batch if this one is used up.
     *
     * @return the item, decoded as a call's result would be
     * @throws NoSuchElementException if the iterator is exhausted
     * @throws PythonException if the iterator raised (SQLState 38000)
     * @throws InvalidRefException if the cursor is closed (SQLState 24000)
     */
    @Override
    public Object next() {
        if (!hasNext()) {
            throw new NoSuchElementException("the Python iterator is exhausted");
        }
        return batch.get(position++);
    }

    @SuppressWarnings("unchecked")
    private void fetch() {
        iterator.checkUsable();
        Map<Object, Object> reply = iterator.connection().invoke(Request.streamNext(iterator.wire(), fetchSize)).asMap();
        batch = (List<Object>) reply.get("items");
        position = 0;
        exhausted = Boolean.TRUE.equals(reply.get("done"));
        if (reply.get("error") != null) {
            pendingError = iterator.connection().errorFrom(reply.get("error"));
        }
    }

    /**
     * The remaining items as a sequential stream; closing the stream closes this cursor.
     *
     * @return a stream over the items not read yet, fetched as the stream advances
     */
    public Stream<Object> stream() {
        return StreamSupport.stream(Spliterators.spliteratorUnknownSize(this, Spliterator.ORDERED), false).onClose(this::close);
    }

    /**
     * Closes a generator that was not read to its end (its {@code finally} blocks run) and releases the
     * iterator, and the object it iterates when this cursor owns that too ({@link BridgeConnection#iterate}).
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (!exhausted && "generator".equals(iterator.typeName()) && !iterator.isClosed()) {
            try {
                iterator.call("close");
            } catch (BridgeException e) {
                LOG.debug("closing generator {} failed: {}", iterator.id(), e.toString());
            }
        }
        iterator.close();
        if (iterable != null) {
            iterable.close();
        }
    }
}

package io.snakebridge;

import com.fasterxml.jackson.databind.JsonNode;
import io.snakebridge.internal.Message;
import io.snakebridge.internal.Request;
import java.lang.reflect.Array;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * A {@link PreparedCall} of a {@link WorkerConnection} (PROTOCOL.md PREP-*): the worker keeps the
 * resolved callable as a ref of the session, so this holds a {@link Ref} to it and is closed,
 * reset and collected as that ref is.
 */
final class Prepared implements PreparedCall {
    /** The array types executeBatch can return, with the dtype the worker packs them as (PREP-4). */
    private static final Map<Class<?>, String> DTYPES = Map.of(double[].class, "float64", float[].class, "float32",
            long[].class, "int64", int[].class, "int32", boolean[].class, "bool");

    private final WorkerConnection connection;
    private final Ref handle;
    private final String name;
    private final List<Object[]> rows = new ArrayList<>();

    Prepared(WorkerConnection connection, Ref handle, String name) {
        this.connection = connection;
        this.handle = handle;
        this.name = name;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public PyValue call(Object... args) {
        handle.checkUsable();
        return connection.invoke(Request.callPrepared(handle.id(), connection.values().encode(Arrays.asList(args))));
    }

    @Override
    public PreparedCall addBatch(Object... args) {
        handle.checkUsable();
        rows.add(args.clone());
        return this;
    }

    @Override
    public int batchSize() {
        return rows.size();
    }

    @Override
    public void clearBatch() {
        rows.clear();
    }

    @Override
    public List<PyValue> executeBatch() {
        return execute(null, (response, failed) -> rowValues(response.result().path("values"), response, failed));
    }

    @Override
    public <T> T executeBatch(Class<T> arrayType) {
        String dtype = DTYPES.get(arrayType);
        if (dtype == null) {
            throw new IllegalArgumentException("executeBatch returns double[], float[], long[], int[] or boolean[], not "
                    + arrayType.getSimpleName() + "; use executeBatch() for other results");
        }
        connection.requireCapability("arrays", "executeBatch(" + arrayType.getSimpleName() + ".class)");
        return execute(dtype, (response, failed) -> connection.values().value(response.result().path("values"), response)
                .as(arrayType));
    }

    /** Reads the rows' results from a response, knowing which rows failed. */
    private interface Results<T> {
        T read(Message response, java.util.Set<Integer> failed);
    }

    /**
     * Sends the batch in one request and empties it; a batch with no rows sends nothing. The
     * arguments go as columns when every row has as many (PREP-3), each column an array where its
     * values are all of one primitive type and the worker reads arrays.
     */
    @SuppressWarnings("unchecked")
    private <T> T execute(String dtype, Results<T> results) {
        handle.checkUsable();
        int count = rows.size();
        if (count == 0) {
            return dtype == null ? (T) List.of() : (T) Array.newInstance(componentOf(dtype), 0);
        }
        List<Object[]> sent = new ArrayList<>(rows);
        rows.clear();
        List<Object> primitive = new ArrayList<>();
        Object columns = columns(sent, primitive);
        Object encodedRows = null;
        if (columns == null) {
            List<Object> asLists = new ArrayList<>(count);
            for (Object[] row : sent) {
                asLists.add(Arrays.asList(row));
            }
            encodedRows = connection.values().encode(asLists);
        }
        Request request = Request.executePrepared(handle.id(), encodedRows, columns, dtype);
        if (columns != null && primitive.size() == sent.get(0).length) {
            request.withLeanColumns(primitive); // every column is a double[] or long[]: it can travel lean (LEAN-1)
        }
        return connection.executor().execute(request, response -> {
            SortedMap<Integer, BridgeException> errors = rowErrors(response.result().path("errors"), count);
            T read = results.read(response, errors.keySet());
            if (!errors.isEmpty()) {
                throw new PreparedBatchException(count, errors, read);
            }
            return read;
        });
    }

    private static Class<?> componentOf(String dtype) {
        for (Map.Entry<Class<?>, String> entry : DTYPES.entrySet()) {
            if (entry.getValue().equals(dtype)) {
                return entry.getKey().getComponentType();
            }
        }
        throw new IllegalStateException(dtype);
    }

    /**
     * The rows as encoded columns, or null where rows differ in length; the columns that are
     * {@code double[]} or {@code long[]} are added to {@code primitive} as they are.
     */
    private Object columns(List<Object[]> sent, List<Object> primitive) {
        int width = sent.get(0).length;
        for (Object[] row : sent) {
            if (row.length != width) {
                return null;
            }
        }
        if (width == 0) {
            return null; // no column can say how many rows there are
        }
        boolean arrays = connection.hasCapability("arrays");
        List<Object> columns = new ArrayList<>(width);
        for (int j = 0; j < width; j++) {
            Object column = column(sent, j, arrays);
            if (column instanceof double[] || column instanceof long[]) {
                primitive.add(column);
            }
            columns.add(connection.values().encode(column));
        }
        return columns;
    }

    /** Argument {@code j} of every row: a primitive array where all are one boxed type (one pass, no boxing kept). */
    private static Object column(List<Object[]> sent, int j, boolean arrays) {
        Object first = sent.get(0)[j];
        Class<?> type = first == null ? null : first.getClass();
        boolean uniform = arrays && (type == Double.class || type == Long.class || type == Integer.class || type == Boolean.class);
        for (Iterator<Object[]> it = sent.iterator(); uniform && it.hasNext(); ) {
            Object value = it.next()[j];
            uniform = value != null && value.getClass() == type;
        }
        int n = sent.size();
        if (!uniform) {
            List<Object> column = new ArrayList<>(n);
            for (Object[] row : sent) {
                column.add(row[j]);
            }
            return column;
        }
        if (type == Double.class) {
            double[] column = new double[n];
            for (int i = 0; i < n; i++) {
                column[i] = (Double) sent.get(i)[j];
            }
            return column;
        }
        if (type == Boolean.class) {
            boolean[] column = new boolean[n];
            for (int i = 0; i < n; i++) {
                column[i] = (Boolean) sent.get(i)[j];
            }
            return column;
        }
        long[] column = new long[n];
        for (int i = 0; i < n; i++) {
            column[i] = ((Number) sent.get(i)[j]).longValue();
        }
        return column;
    }

    /** One PyValue per row (null for a failed row), decoded with the refs the rows hold. */
    private List<PyValue> rowValues(JsonNode values, Message response, java.util.Set<Integer> failed) {
        if (!values.isArray()) {
            throw new ProtocolException("worker answered execute_prepared without a list of values: " + values);
        }
        List<PyValue> results = new ArrayList<>(values.size());
        for (int i = 0; i < values.size(); i++) {
            results.add(failed.contains(i) ? null : connection.values().value(values.get(i), response));
        }
        return java.util.Collections.unmodifiableList(results);
    }

    private SortedMap<Integer, BridgeException> rowErrors(JsonNode errors, int count) {
        if (!errors.isObject()) {
            throw new ProtocolException("worker answered execute_prepared without an errors object: " + errors);
        }
        SortedMap<Integer, BridgeException> rowErrors = new TreeMap<>();
        errors.fields().forEachRemaining(entry -> {
            int row;
            try {
                row = Integer.parseInt(entry.getKey());
            } catch (NumberFormatException e) {
                row = -1;
            }
            if (row < 0 || row >= count) {
                throw new ProtocolException("worker reported an error for row " + entry.getKey() + " of " + count);
            }
            rowErrors.put(row, connection.executor().errorFrom(entry.getValue()));
        });
        return rowErrors;
    }

    @Override
    public boolean isClosed() {
        return handle.isClosed();
    }

    @Override
    public void close() {
        handle.close();
    }

    @Override
    public String toString() {
        return "PreparedCall[" + name + " " + handle.id() + (isClosed() ? ", closed" : "") + "]";
    }
}

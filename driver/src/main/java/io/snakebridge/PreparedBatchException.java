package io.snakebridge;

import java.util.Collections;
import java.util.Map;
import java.util.SortedMap;

/**
 * Some rows of a {@link PreparedCall#executeBatch()} failed; the others ran, and their results are
 * here (as JDBC's {@code BatchUpdateException} carries the update counts). Its code, SQLState and
 * cause are those of the first failed row.
 */
public class PreparedBatchException extends BridgeException {
    private static final long serialVersionUID = 1L;
    private final transient SortedMap<Integer, BridgeException> rowErrors;
    private final transient Object results;

    PreparedBatchException(int rows, SortedMap<Integer, BridgeException> rowErrors, Object results) {
        super(first(rowErrors).code(), first(rowErrors).sqlState(), rowErrors.size() + " of " + rows + " rows failed; row "
                + rowErrors.firstKey() + ": " + first(rowErrors).getMessage(), first(rowErrors));
        this.rowErrors = Collections.unmodifiableSortedMap(rowErrors);
        this.results = results;
    }

    private static BridgeException first(SortedMap<Integer, BridgeException> rowErrors) {
        return rowErrors.get(rowErrors.firstKey());
    }

    /**
     * The failed rows' errors.
     *
     * @return each failed row's error, by the row's index in the batch, in order
     */
    public Map<Integer, BridgeException> rowErrors() {
        return rowErrors;
    }

    /**
     * The rows' results.
     *
     * @return the results in the form the batch asked for: a {@code List<PyValue>} with {@code null}
     *         at each failed row, or the primitive array with 0 ({@code false}) there
     */
    public Object results() {
        return results;
    }
}

package io.snakebridge.jdbc;

import io.snakebridge.BridgeConfig;
import io.snakebridge.BridgeConnection;
import io.snakebridge.BridgeException;
import io.snakebridge.SnakeBridge;
import java.sql.ClientInfoStatus;
import java.sql.Connection;
import java.sql.SQLClientInfoException;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.sql.SQLWarning;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Executor;

/**
 * A {@code java.sql.Connection} over one {@link BridgeConnection}, shaped so that HikariCP's set-up,
 * validation and return never fail on a healthy worker and always fail (with an 08 SQLState, so the
 * pool evicts) on a dead one. SQL has no meaning here: statements and the like throw
 * {@link SQLFeatureNotSupportedException} with a null SQLState (0A000 would make HikariCP evict).
 */
final class BridgeJdbcConnection extends UnsupportedSqlConnection {
    private final BridgeConnection bridge;
    private volatile int networkTimeoutMillis;
    private volatile boolean autoCommit = true;
    private volatile boolean readOnly;

    private BridgeJdbcConnection(BridgeConnection bridge) {
        this.bridge = bridge;
    }

    static BridgeJdbcConnection open(BridgeConfig config) throws SQLException {
        try {
            return new BridgeJdbcConnection(SnakeBridge.connect(config));
        } catch (BridgeException e) {
            throw sqlException(e);
        }
    }

    static SQLException sqlException(BridgeException e) {
        return new SQLException(e.getMessage(), e.sqlState(), e);
    }

    private void ensureOpen() throws SQLException {
        if (bridge.isClosed()) {
            throw new SQLException("connection is closed or its worker has died", "08003");
        }
    }

    // -- what pools call --------------------------------------------------------------------------

    /** Pings the worker; false (never an exception) if it does not answer within {@code seconds} (0: no limit). */
    @Override
    public boolean isValid(int seconds) throws SQLException {
        if (seconds < 0) {
            throw new SQLException("isValid timeout must be >= 0, got " + seconds, "22023");
        }
        if (bridge.isClosed()) {
            return false;
        }
        Duration timeout = Duration.ofSeconds(seconds);
        if (networkTimeoutMillis > 0 && (timeout.isZero() || networkTimeoutMillis < timeout.toMillis())) {
            timeout = Duration.ofMillis(networkTimeoutMillis);
        }
        try {
            bridge.withCallTimeout(timeout, c -> {
                c.ping();
                return null;
            });
            return true;
        } catch (BridgeException e) {
            return false;
        }
    }

    /** Reports a dead worker with an 08 SQLState: HikariCP always calls this on return, so it then evicts. */
    @Override
    public void clearWarnings() throws SQLException {
        if (bridge.isClosed()) {
            throw new SQLException("the worker of this connection is gone", "08006");
        }
    }

    @Override
    public SQLWarning getWarnings() throws SQLException {
        ensureOpen();
        return null;
    }

    /** A request boundary begins: a fresh session needs nothing. */
    @Override
    public void beginRequest() {
    }

    /** A request boundary ends: the session is reset, so the next user sees none of this one's refs. */
    @Override
    public void endRequest() throws SQLException {
        if (bridge.isClosed()) {
            return; // nothing to reset; clearWarnings reports the dead worker
        }
        try {
            bridge.resetSession();
        } catch (BridgeException e) {
            throw sqlException(e);
        }
    }

    @Override
    public void setNetworkTimeout(Executor executor, int milliseconds) throws SQLException {
        if (milliseconds < 0) {
            throw new SQLException("network timeout must be >= 0, got " + milliseconds, "22023");
        }
        ensureOpen();
        networkTimeoutMillis = milliseconds;
    }

    @Override
    public int getNetworkTimeout() throws SQLException {
        ensureOpen();
        return networkTimeoutMillis;
    }

    @Override
    public void close() {
        bridge.close();
    }

    @Override
    public boolean isClosed() {
        return bridge.isClosed();
    }

    @Override
    public void abort(Executor executor) throws SQLException {
        if (executor == null) {
            throw new SQLException("abort needs an executor", "22023");
        }
        bridge.abort();
    }

    @Override
    public void setAutoCommit(boolean autoCommit) throws SQLException {
        ensureOpen();
        this.autoCommit = autoCommit; // no transactions: remembered so pools see what they set
    }

    @Override
    public boolean getAutoCommit() throws SQLException {
        ensureOpen();
        return autoCommit;
    }

    /** Nothing is transactional: commit and rollback have nothing to do. */
    @Override
    public void commit() throws SQLException {
        ensureOpen();
    }

    @Override
    public void rollback() throws SQLException {
        ensureOpen();
    }

    @Override
    public void setReadOnly(boolean readOnly) throws SQLException {
        ensureOpen();
        this.readOnly = readOnly;
    }

    @Override
    public boolean isReadOnly() throws SQLException {
        ensureOpen();
        return readOnly;
    }

    @Override
    public void setTransactionIsolation(int level) throws SQLException {
        ensureOpen();
        if (level != TRANSACTION_NONE) {
            throw unsupported("transaction isolation " + level);
        }
    }

    @Override
    public int getTransactionIsolation() throws SQLException {
        ensureOpen();
        return TRANSACTION_NONE;
    }

    @Override
    public String getCatalog() throws SQLException {
        ensureOpen();
        return null;
    }

    @Override
    public void setCatalog(String catalog) throws SQLException {
        ensureOpen(); // JDBC: a driver without catalogs silently ignores this
    }

    @Override
    public String getSchema() throws SQLException {
        ensureOpen();
        return null;
    }

    @Override
    public void setSchema(String schema) throws SQLException {
        ensureOpen(); // JDBC: a driver without schemas silently ignores this
    }

    @Override
    public int getHoldability() throws SQLException {
        ensureOpen();
        return java.sql.ResultSet.CLOSE_CURSORS_AT_COMMIT;
    }

    @Override
    public void setHoldability(int holdability) throws SQLException {
        throw unsupported("holdability");
    }

    @Override
    public void setClientInfo(String name, String value) throws SQLClientInfoException {
        throw new SQLClientInfoException("client info has no meaning for a Python bridge",
                Map.of(name, ClientInfoStatus.REASON_UNKNOWN_PROPERTY));
    }

    @Override
    public void setClientInfo(Properties properties) throws SQLClientInfoException {
        throw new SQLClientInfoException("client info has no meaning for a Python bridge", Map.of());
    }

    @Override
    public String getClientInfo(String name) throws SQLException {
        ensureOpen();
        return null;
    }

    @Override
    public Properties getClientInfo() throws SQLException {
        ensureOpen();
        return new Properties();
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> T unwrap(Class<T> type) throws SQLException {
        if (type.isInstance(bridge)) {
            return (T) bridge;
        }
        if (type.isInstance(this)) {
            return (T) this;
        }
        throw new SQLException("not a wrapper for " + type.getName() + "; unwrap(BridgeConnection.class) gives the session API", "HY000");
    }

    @Override
    public boolean isWrapperFor(Class<?> type) {
        return type.isInstance(bridge) || type.isInstance(this);
    }

    @Override
    public String toString() {
        return "SnakeBridge JDBC " + bridge;
    }
}

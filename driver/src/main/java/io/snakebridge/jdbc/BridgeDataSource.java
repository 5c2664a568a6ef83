package io.snakebridge.jdbc;

import io.snakebridge.BridgeConfig;
import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.util.Properties;
import java.util.logging.Logger;
import javax.sql.DataSource;

/**
 * A {@code DataSource} for containers that want a class name: configure it with {@link #setUrl}
 * ({@code jdbc:snakebridge:?maxRefs=100}) or construct it with a {@link BridgeConfig}. Each
 * {@link #getConnection()} starts a worker; put a pool in front of it.
 */
public final class BridgeDataSource implements DataSource {
    private volatile BridgeConfig config;
    private volatile String url = SnakeBridgeDriver.URL_PREFIX;
    private volatile int loginTimeoutSeconds;

    /** A data source with the default settings ({@link BridgeConfig#defaults()}). */
    public BridgeDataSource() {
        this.config = BridgeConfig.defaults();
    }

    /**
     * A data source whose connections start with these settings; settings that choose code are allowed.
     *
     * @param config the settings each connection's worker starts with
     */
    public BridgeDataSource(BridgeConfig config) {
        this.config = config;
    }

    /**
     * Settings as a JDBC URL, e.g. {@code jdbc:snakebridge:?refTtl=PT30S}; replaces the whole config.
     * A URL is a URL wherever it is written (containers set this one from configuration files), so
     * settings that choose code to run are refused here as by the driver; construct the data source
     * with a {@link BridgeConfig} to set them in code.
     *
     * @param url a URL starting with {@value SnakeBridgeDriver#URL_PREFIX}
     * @throws SQLException 08001 for a URL that is not SnakeBridge's, 28000 for a setting that chooses code
     *         (see {@link SnakeBridgeDriver}), 22023 for a bad value
     */
    public void setUrl(String url) throws SQLException {
        if (!url.startsWith(SnakeBridgeDriver.URL_PREFIX)) {
            throw new SQLException("not a SnakeBridge URL (" + SnakeBridgeDriver.URL_PREFIX + "...): " + url, "08001");
        }
        this.config = SnakeBridgeDriver.configFor(url, new Properties());
        this.url = url;
    }

    /**
     * The URL last set, or the bare prefix when settings came from a {@link BridgeConfig}.
     *
     * @return the JDBC URL
     */
    public String getUrl() {
        return url;
    }

    /**
     * The settings new connections start with.
     *
     * @return the configuration
     */
    public BridgeConfig getConfig() {
        return config;
    }

    /**
     * Starts a worker with this data source's settings.
     *
     * @return a connection; {@code unwrap(BridgeConnection.class)} gives the session API
     * @throws SQLException 08001 if the worker could not start
     */
    @Override
    public Connection getConnection() throws SQLException {
        return BridgeJdbcConnection.open(config);
    }

    /** A bridge has no credentials; they are ignored. */
    @Override
    public Connection getConnection(String username, String password) throws SQLException {
        return getConnection();
    }

    @Override
    public PrintWriter getLogWriter() {
        return null;
    }

    @Override
    public void setLogWriter(PrintWriter out) {
        // SnakeBridge logs through SLF4J
    }

    @Override
    public void setLoginTimeout(int seconds) {
        this.loginTimeoutSeconds = seconds;
    }

    @Override
    public int getLoginTimeout() {
        return loginTimeoutSeconds;
    }

    @Override
    public Logger getParentLogger() throws SQLFeatureNotSupportedException {
        throw new SQLFeatureNotSupportedException("SnakeBridge logs through SLF4J", (String) null);
    }

    @Override
    public <T> T unwrap(Class<T> type) throws SQLException {
        if (type.isInstance(this)) {
            return type.cast(this);
        }
        throw new SQLException("not a wrapper for " + type.getName(), "HY000");
    }

    @Override
    public boolean isWrapperFor(Class<?> type) {
        return type.isInstance(this);
    }
}

package io.snakebridge.pool;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.pool.HikariPool;
import io.snakebridge.BridgeConnection;
import io.snakebridge.BridgeException;
import io.snakebridge.WorkerStartException;
import io.snakebridge.jdbc.BridgeDataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A pool of workers over HikariCP. {@link #getConnection()} lends a {@link BridgeConnection}; its
 * {@code close()} resets the session (every ref released, a new session id, old handles fail fast)
 * and returns the worker. A connection whose worker broke is evicted and replaced.
 *
 * <pre>{@code
 * try (BridgePool pool = new BridgePool(BridgePoolConfig.builder().poolSize(4).build())) {
 *     try (BridgeConnection py = pool.getConnection()) {
 *         py.call("math.sqrt", 2.0).asDouble();
 *     }
 * }
 * }</pre>
 */
public final class BridgePool implements AutoCloseable {
    private final HikariDataSource hikari;
    private final PoolMetrics metrics;
    private final AtomicLong evictions = new AtomicLong();

    public BridgePool(BridgePoolConfig config) {
        HikariConfig hc = new HikariConfig();
        hc.setPoolName(config.poolName());
        hc.setDataSource(new BridgeDataSource(config.bridge()));
        hc.setMaximumPoolSize(config.poolSize());
        hc.setMinimumIdle(config.minimumIdle());
        hc.setMaxLifetime(config.maxLifetime().toMillis());
        hc.setIdleTimeout(config.idleTimeout().toMillis());
        hc.setConnectionTimeout(config.connectionTimeout().toMillis());
        hc.setLeakDetectionThreshold(config.leakDetectionThreshold().toMillis());
        if (config.metricRegistry() != null) {
            hc.setMetricRegistry(config.metricRegistry());
            metrics = new MicrometerPoolMetrics(config.metricRegistry(), config.poolName());
        } else {
            metrics = PoolMetrics.NONE;
        }
        try {
            this.hikari = new HikariDataSource(hc);
        } catch (HikariPool.PoolInitializationException e) {
            throw new WorkerStartException("the pool could not start its first worker: " + bridgeMessage(e), e);
        }
    }

    /**
     * Borrows a connection; waits up to {@code connectionTimeout} for a free worker.
     *
     * @throws BridgeException with SQLState 08001 when no worker is free or one cannot be started in time
     */
    public BridgeConnection getConnection() {
        Connection proxy;
        try {
            proxy = hikari.getConnection();
        } catch (SQLException e) {
            if (e.getCause() instanceof BridgeException) {
                throw (BridgeException) e.getCause();
            }
            throw new BridgeException("pool_timeout", "08001", "no worker available: " + e.getMessage(), e);
        }
        try {
            return new PooledConnection(this, proxy, proxy.unwrap(BridgeConnection.class));
        } catch (SQLException e) {
            throw new IllegalStateException("the pool's connections are not SnakeBridge connections", e);
        }
    }

    /** Connections in the pool, borrowed or idle. */
    public int totalConnections() {
        return hikari.getHikariPoolMXBean().getTotalConnections();
    }

    public int activeConnections() {
        return hikari.getHikariPoolMXBean().getActiveConnections();
    }

    public int idleConnections() {
        return hikari.getHikariPoolMXBean().getIdleConnections();
    }

    /** Connections this pool evicted because their worker broke. */
    public long evictions() {
        return evictions.get();
    }

    /** Stops every worker; borrowed connections are aborted. */
    @Override
    public void close() {
        hikari.close();
    }

    PoolMetrics metrics() {
        return metrics;
    }

    void evict(Connection proxy) {
        evictions.incrementAndGet();
        metrics.eviction();
        hikari.evictConnection(proxy); // a borrowed connection is closed when it comes back
    }

    /** The message of the driver's own exception in the chain (it names the interpreter), else the root cause's. */
    private static String bridgeMessage(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof BridgeException) {
                return c.getMessage();
            }
            t = c;
        }
        return t.getMessage();
    }
}

package io.snakebridge.pool;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.pool.HikariPool;
import io.snakebridge.BridgeClosedException;
import io.snakebridge.BridgeConfig;
import io.snakebridge.BridgeConnection;
import io.snakebridge.BridgeException;
import io.snakebridge.RequestListener;
import io.snakebridge.WorkerStartException;
import io.snakebridge.jdbc.BridgeDataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A pool of workers over HikariCP. {@link #getConnection()} lends a {@link BridgeConnection}; its
 * {@code close()} resets the session (every ref released, a new session id, old handles fail fast)
 * and returns the worker, or with {@link BorrowIsolation#PROCESS} retires it for a fresh one. A
 * connection whose worker broke is evicted and replaced.
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
    /** The connections lent now, by the driver's connection under them: a request's failure finds its borrower here. */
    private final Map<BridgeConnection, PooledConnection> lent = new ConcurrentHashMap<>();
    /**
     * Connections on their way back: no longer the borrower's (their reset is the pool's request),
     * not yet back in HikariCP's bag. A close waits for these too: HikariCP's shutdown must not meet
     * a connection a returning thread still resets and hands back.
     */
    private final Set<BridgeConnection> returning = ConcurrentHashMap.newKeySet();
    /**
     * The HikariCP handle each connection was last lent under, by the driver's connection: evicting
     * through it closes an idle connection at once (HikariCP reserves it first) or marks a lent one.
     */
    private final Map<BridgeConnection, Connection> handles = new ConcurrentHashMap<>();
    /** Connections evicted already: several paths may find one broken (its call, its exit, its return); counted once. */
    private final java.util.Set<BridgeConnection> evictedOnce =
            java.util.Collections.synchronizedSet(java.util.Collections.newSetFromMap(new java.util.WeakHashMap<>()));
    private final BorrowIsolation isolation;
    private final int maxWorkers;
    private final Duration cancelGrace;
    /** Set when closing starts: no more borrows. Returns are signalled on {@link #returns} while it is set. */
    private volatile boolean closing;
    private final Object returns = new Object();
    private static final int HANDLES_PER_WORKER = 4;

    /**
     * Starts the pool and, with a minimum idle above zero, its first worker.
     *
     * @param config the pool's sizes and timeouts and the workers' settings
     * @throws WorkerStartException (SQLState 08001) when the first worker cannot be started
     */
    public BridgePool(BridgePoolConfig config) {
        this.isolation = config.borrowIsolation();
        this.maxWorkers = config.poolSize();
        this.cancelGrace = config.bridge().cancelGrace();
        HikariConfig hc = new HikariConfig();
        hc.setPoolName(config.poolName());
        hc.setDataSource(new BridgeDataSource(withListener(config.bridge())));
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
     * Borrows a connection; waits up to {@code connectionTimeout} for a free worker. A worker known
     * to have died while idle (its process ended) is evicted here, never lent.
     *
     * @return a connection to a worker; close it to give it back
     * @throws BridgeException with SQLState 08001 when no worker is free or one cannot be started in time
     *         (a {@link WorkerStartException} when the last start failed), 08003 once the pool is closing
     */
    public BridgeConnection getConnection() {
        return borrowConnection(null);
    }

    /**
     * Borrows a connection, waiting at most {@code timeout} for a free worker instead of the pool's
     * {@code connectionTimeout}: for a caller that must answer soon, such as a health check.
     *
     * @param timeout how long to wait for a free worker; positive
     * @return a connection to a worker; close it to give it back
     * @throws IllegalArgumentException when {@code timeout} is zero or negative
     * @throws BridgeException with SQLState 08001 when no worker is free or one cannot be started in time
     *         (a {@link WorkerStartException} when the last start failed), 08003 once the pool is closing
     */
    public BridgeConnection getConnection(Duration timeout) {
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive, got " + timeout);
        }
        return borrowConnection(timeout);
    }

    /** {@code timeout} null: the pool's {@code connectionTimeout}. */
    private BridgeConnection borrowConnection(Duration timeout) {
        if (closing) {
            throw new BridgeClosedException("the pool is closing: it lends no more connections");
        }
        if (handles.size() > HANDLES_PER_WORKER * maxWorkers) {
            // Connections HikariCP closed itself (maxLifetime, idleTimeout) leave their handle behind:
            // dropped now and then, not at every borrow, since a dead idle one's handle is how the exit
            // listener evicts it (one dropped here is still caught at its next borrow).
            handles.keySet().removeIf(connection -> connection.isClosed() && !lent.containsKey(connection));
        }
        while (true) {
            Connection proxy = borrow(timeout);
            BridgeConnection bridge;
            try {
                bridge = proxy.unwrap(BridgeConnection.class);
            } catch (SQLException e) {
                throw new IllegalStateException("the pool's connections are not SnakeBridge connections", e);
            }
            if (bridge.isClosed()) {
                // Its worker is known dead (process exit, or its server's report): no round trip needed
                // to tell, so it is evicted here instead of failing the borrower's first call.
                evict(bridge, proxy, true);
                closeQuietly(proxy);
                continue;
            }
            PooledConnection pooled = new PooledConnection(this, proxy, bridge);
            lent.put(bridge, pooled);
            handles.put(bridge, proxy); // after lent: a death seen in between leaves it to this borrower
            return pooled;
        }
    }

    private Connection borrow(Duration timeout) {
        try {
            // HikariDataSource offers no per-call timeout; its pool does (the MXBean is the HikariPool).
            return timeout == null ? hikari.getConnection() : ((HikariPool) hikari.getHikariPoolMXBean()).getConnection(timeout.toMillis());
        } catch (SQLException e) {
            for (Throwable cause = e.getCause(); cause != null; cause = cause.getCause()) {
                if (cause instanceof BridgeException) { // the last start's failure (HikariCP wraps it): it says why
                    throw (BridgeException) cause;
                }
            }
            if (hikari.isClosed()) {
                throw new BridgeClosedException("the pool is closed: no connection can be borrowed from it", e);
            }
            throw new BridgeException("pool_timeout", "08001", "no worker available: " + e.getMessage(), e);
        }
    }

    private static void closeQuietly(Connection proxy) {
        try {
            proxy.close();
        } catch (SQLException e) {
            // it is being evicted: HikariCP closes it
        }
    }

    /**
     * Connections in the pool, borrowed or idle.
     *
     * @return the number of workers the pool holds now
     */
    public int totalConnections() {
        return hikari.getHikariPoolMXBean().getTotalConnections();
    }

    /**
     * Connections borrowed now.
     *
     * @return the number of workers lent out
     */
    public int activeConnections() {
        return hikari.getHikariPoolMXBean().getActiveConnections();
    }

    /**
     * Connections ready to be borrowed.
     *
     * @return the number of idle workers
     */
    public int idleConnections() {
        return hikari.getHikariPoolMXBean().getIdleConnections();
    }

    /**
     * Connections this pool evicted because their worker broke.
     *
     * @return the number of evictions since the pool started
     */
    public long evictions() {
        return evictions.get();
    }

    /**
     * Whether {@link #close()} or {@link #close(Duration)} has begun: the pool lends no more connections.
     *
     * @return true once closing has started
     */
    public boolean isClosed() {
        return closing;
    }

    /** Stops every worker at once; calls running on borrowed connections fail as their workers are killed. */
    @Override
    public void close() {
        closing = true;
        hikari.close();
    }

    /**
     * Closes the pool gracefully: it lends no more connections, waits up to {@code grace} for the borrowed
     * ones to come back, then cancels the calls still running on them ({@link BridgeConnection#cancel()}:
     * their borrowers get {@code CallCancelledException}, SQLState 57014) and waits up to the workers'
     * {@code cancelGrace} for those connections too, and finally stops every worker, aborting what is still
     * borrowed. No worker process is left when it returns.
     *
     * @param grace how long borrowers get to finish their calls and return their connections; zero or positive
     * @throws IllegalArgumentException when {@code grace} is negative
     */
    public void close(Duration grace) {
        if (grace.isNegative()) {
            throw new IllegalArgumentException("grace must not be negative, got " + grace);
        }
        closing = true;
        try {
            if (!awaitReturns(grace)) {
                for (PooledConnection borrowed : lent.values()) {
                    borrowed.cancel();
                }
                awaitReturns(cancelGrace);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // close at once: the caller wants out
        } finally {
            hikari.close();
        }
    }

    /** Whether every borrowed connection came back within {@code wait}. */
    private boolean awaitReturns(Duration wait) throws InterruptedException {
        long deadline = System.nanoTime() + wait.toNanos();
        synchronized (returns) {
            while (!lent.isEmpty() || !returning.isEmpty()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(returns, left);
            }
        }
        return true;
    }

    /**
     * The pool's listener on every request of every worker (sync, async, batch, cursor, ref calls
     * alike): times it, and lets a borrower's connection evict itself on the failure that shows its
     * worker is gone. Only a borrower's requests count; an application's own listener is told of all.
     */
    private BridgeConfig withListener(BridgeConfig bridge) {
        RequestListener own = bridge.requestListener();
        return bridge.toBuilder().requestListener(new RequestListener() {
            @Override
            public void requestEnded(BridgeConnection connection, String op, long nanos, BridgeException failure) {
                PooledConnection borrower = lent.get(connection); // null: the pool's own requests (validation, reset)
                if (borrower != null) {
                    metrics.call(nanos);
                    if (failure != null) {
                        borrower.observe(failure);
                    }
                }
                if (own != null) {
                    own.requestEnded(connection, op, nanos, failure);
                }
            }

            @Override
            public void workerEnded(BridgeConnection connection, String how) {
                workerDied(connection);
                if (own != null) {
                    own.workerEnded(connection, how);
                }
            }
        }).build();
    }

    /**
     * A worker died while its connection sat idle: evicted now, so it is never lent again and
     * HikariCP starts its replacement at once. A lent one is left to its borrower, whose next request
     * fails with the crash (08006) and evicts it; one never lent yet is caught at borrow.
     */
    private void workerDied(BridgeConnection bridge) {
        Connection handle = handles.get(bridge);
        if (handle != null && !lent.containsKey(bridge)) {
            evict(bridge, handle, true);
        }
    }

    /** The borrower gave {@code bridge} back: from here on its requests (the reset) are the pool's. */
    void returning(BridgeConnection bridge) {
        returning.add(bridge); // before the removal from lent: a closer never sees it in neither
        lent.remove(bridge);
    }

    /** {@code bridge} is back in HikariCP's bag (or evicted): a closer may go on. */
    void returned(BridgeConnection bridge) {
        returning.remove(bridge);
        if (closing) {
            synchronized (returns) {
                returns.notifyAll(); // after the removal, under the lock: a closer checking cannot miss it
            }
        }
    }

    PoolMetrics metrics() {
        return metrics;
    }

    /**
     * Evicts {@code bridge}'s connection: at once if idle, when it comes back if lent. Counted once
     * (with a worker crash if {@code crashed}), however many paths find it broken.
     */
    void evict(BridgeConnection bridge, Connection proxy, boolean crashed) {
        handles.remove(bridge);
        if (evictedOnce.add(bridge)) {
            evictions.incrementAndGet();
            metrics.eviction(crashed ? "worker_died" : "broken");
            if (crashed) {
                metrics.workerCrash();
            }
        }
        hikari.evictConnection(proxy);
    }

    /** Whether a returned connection's worker is retired rather than reset ({@link BorrowIsolation#PROCESS}). */
    boolean retiresOnReturn() {
        return isolation == BorrowIsolation.PROCESS;
    }

    /** Retires a healthy worker on its return: not an eviction (nothing broke); HikariCP starts a replacement. */
    void retire(BridgeConnection bridge, Connection proxy) {
        handles.remove(bridge);
        hikari.evictConnection(proxy);
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

package io.snakebridge.pool;

import io.snakebridge.BridgeClosedException;
import io.snakebridge.BridgeConnection;
import io.snakebridge.BridgeException;
import io.snakebridge.Batch;
import io.snakebridge.NDArray;
import io.snakebridge.PreparedCall;
import io.snakebridge.PyCursor;
import io.snakebridge.PyValue;
import io.snakebridge.PythonException;
import io.snakebridge.RefHandle;
import io.snakebridge.RefLimitExceededException;
import io.snakebridge.WorkerCrashedException;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A borrowed connection. Calls go to the worker's connection (we hold the unwrapped delegate, so
 * HikariCP cannot see our errors: a broken worker is evicted here). {@link #close()} resets the
 * session and hands the connection back.
 */
final class PooledConnection implements BridgeConnection {
    private static final Logger LOG = LoggerFactory.getLogger(PooledConnection.class);

    private final BridgePool pool;
    private final Connection proxy;
    private final BridgeConnection bridge;
    private volatile boolean returned;
    private volatile boolean evicted;

    PooledConnection(BridgePool pool, Connection proxy, BridgeConnection bridge) {
        this.pool = pool;
        this.proxy = proxy;
        this.bridge = bridge;
    }

    /** Runs a call of the borrower's; the pool's request listener times it and observes its failure. */
    private <T> T guard(Supplier<T> call) {
        if (returned) {
            throw new BridgeClosedException("this pooled connection was returned to the pool");
        }
        return call.get();
    }

    /** A request of this borrower's failed with {@code e} (told by the pool's request listener, on any path). */
    void observe(BridgeException e) {
        if (e instanceof PythonException) {
            pool.metrics().pythonError(((PythonException) e).pythonType());
        } else if (e instanceof RefLimitExceededException) {
            pool.metrics().refLimitRejected();
        } else if (e.sqlState().startsWith("08")) { // the worker is gone: never lend it again
            evict(e instanceof WorkerCrashedException);
        }
    }

    private void evict(boolean crashed) {
        if (!evicted) {
            evicted = true;
            pool.evict(bridge, proxy, crashed);
        }
    }

    @Override
    public PyValue call(String dottedName, Object... args) {
        return guard(() -> bridge.call(dottedName, args));
    }

    @Override
    public PyValue call(String dottedName, List<?> args, Map<String, ?> kwargs) {
        return guard(() -> bridge.call(dottedName, args, kwargs));
    }

    @Override
    public RefHandle callRef(String dottedName, Object... args) {
        return guard(() -> bridge.callRef(dottedName, args));
    }

    @Override
    public RefHandle callRef(String dottedName, List<?> args, Map<String, ?> kwargs) {
        return guard(() -> bridge.callRef(dottedName, args, kwargs));
    }

    @Override
    public NDArray callArray(String dottedName, Object... args) {
        return guard(() -> bridge.callArray(dottedName, args));
    }

    @Override
    public PreparedCall prepare(String dottedName) {
        return guard(() -> bridge.prepare(dottedName));
    }

    @Override
    public NDArray callArray(String dottedName, List<?> args, Map<String, ?> kwargs) {
        return guard(() -> bridge.callArray(dottedName, args, kwargs));
    }

    @Override
    public java.util.concurrent.CompletableFuture<PyValue> callAsync(String dottedName, List<?> args, Map<String, ?> kwargs) {
        return guard(() -> bridge.callAsync(dottedName, args, kwargs));
    }

    @Override
    public io.snakebridge.ExportedCallback exportCallback(Object function) {
        return guard(() -> bridge.exportCallback(function));
    }

    @Override
    public RefHandle getAttrRef(String dottedName) {
        return guard(() -> bridge.getAttrRef(dottedName));
    }

    @Override
    public PyCursor iterate(String dottedName, int fetchSize, Object... args) {
        return guard(() -> bridge.iterate(dottedName, fetchSize, args));
    }

    @Override
    public PyCursor iterate(String dottedName, int fetchSize, List<?> args, Map<String, ?> kwargs) {
        return guard(() -> bridge.iterate(dottedName, fetchSize, args, kwargs));
    }

    @Override
    public Batch batch() {
        return guard(bridge::batch);
    }

    @Override
    public java.util.concurrent.CompletableFuture<PyValue> callAsync(String dottedName, Object... args) {
        return guard(() -> bridge.callAsync(dottedName, args));
    }

    @Override
    public PyValue getAttr(String dottedName) {
        return guard(() -> bridge.getAttr(dottedName));
    }

    @Override
    public void cancel() {
        bridge.cancel();
    }

    @Override
    public <T> T withCallTimeout(Duration timeout, Function<? super BridgeConnection, ? extends T> calls) {
        if (returned) {
            throw new BridgeClosedException("this pooled connection was returned to the pool");
        }
        return bridge.withCallTimeout(timeout, inner -> calls.apply(this)); // the calls inside are guarded one by one
    }

    @Override
    public int liveRefs() {
        return guard(bridge::liveRefs);
    }

    @Override
    public int workerLiveRefs() {
        return guard(bridge::workerLiveRefs);
    }

    @Override
    public void ping() {
        guard(() -> {
            bridge.ping();
            return null;
        });
    }

    @Override
    public String sessionId() {
        return bridge.sessionId();
    }

    @Override
    public int resetSession() {
        return guard(bridge::resetSession);
    }

    @Override
    public boolean isClosed() {
        return returned || bridge.isClosed();
    }

    @Override
    public void abort() {
        if (!returned) {
            evict(false);
            bridge.abort();
            close();
        }
    }

    /**
     * Resets the session (a broken worker is evicted instead; with process isolation the worker is
     * retired) and returns the connection. Never throws.
     */
    @Override
    public void close() {
        if (returned) {
            return;
        }
        returned = true;
        pool.returning(bridge); // from here on, requests are the pool's (the reset), not the borrower's
        try {
            if (bridge.isClosed()) {
                evict(false);
            } else if (pool.retiresOnReturn()) {
                pool.retire(bridge, proxy); // the next borrower gets a process this one never touched
            } else {
                pool.metrics().refsReleasedOnReturn(bridge.resetSession());
            }
        } catch (BridgeException e) {
            LOG.debug("session reset failed; evicting the connection: {}", e.toString());
            observe(e);
            evict(false);
        } finally {
            try {
                proxy.close();
            } catch (SQLException e) {
                LOG.debug("returning a connection failed: {}", e.toString());
            } finally {
                pool.returned(bridge);
            }
        }
    }

    @Override
    public String toString() {
        return "Pooled" + bridge + (returned ? " (returned)" : "");
    }
}

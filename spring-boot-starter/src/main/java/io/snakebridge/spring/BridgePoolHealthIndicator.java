package io.snakebridge.spring;

import io.snakebridge.BridgeConnection;
import io.snakebridge.BridgeException;
import io.snakebridge.WorkerStartException;
import io.snakebridge.pool.BridgePool;
import java.time.Duration;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.HealthIndicator;

/**
 * UP when the pool lends a worker and it answers a ping, both within the timeout, or when every
 * worker is busy (a full pool is not a sick one); DOWN when the pool is closed, cannot start a
 * worker (the start error says why: a missing interpreter, say), or the worker it lent does not answer.
 */
final class BridgePoolHealthIndicator implements HealthIndicator {
    private final BridgePool pool;
    private final Duration timeout;

    BridgePoolHealthIndicator(BridgePool pool, Duration timeout) {
        this.pool = pool;
        this.timeout = timeout;
    }

    @Override
    public Health health() {
        if (pool.isClosed()) {
            return withWorkers(Health.down().withDetail("reason", "the pool is closed"));
        }
        BridgeConnection py;
        try {
            py = pool.getConnection(timeout);
        } catch (WorkerStartException e) {
            return withWorkers(Health.down(e));
        } catch (BridgeException e) {
            if (pool.totalConnections() > 0 && pool.idleConnections() == 0) { // lent out, not gone
                return withWorkers(Health.up().withDetail("ping", "skipped: every worker is busy"));
            }
            return withWorkers(Health.down(e));
        }
        try (py) {
            long start = System.nanoTime();
            py.withCallTimeout(timeout, c -> {
                c.ping();
                return null;
            });
            return withWorkers(Health.up().withDetail("pingMicros", (System.nanoTime() - start) / 1_000));
        } catch (BridgeException e) {
            return withWorkers(Health.down(e));
        }
    }

    private Health withWorkers(Health.Builder health) {
        return health.withDetail("workers", pool.totalConnections()).withDetail("active", pool.activeConnections())
                .withDetail("idle", pool.idleConnections()).build();
    }
}

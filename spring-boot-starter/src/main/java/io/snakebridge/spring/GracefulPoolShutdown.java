package io.snakebridge.spring;

import io.snakebridge.pool.BridgePool;
import java.time.Duration;
import org.springframework.beans.factory.DisposableBean;

/**
 * Closes the auto-configured pool on context close with a grace period ({@link BridgePool#close(Duration)}).
 * The pool bean depends on this one, so Spring destroys the pool, and every bean that uses it, before
 * this: an application's own shutdown hooks can still call Python, and only then are the pool's
 * borrowers given the grace period.
 */
final class GracefulPoolShutdown implements DisposableBean {
    private final Duration grace;
    private volatile BridgePool pool;

    GracefulPoolShutdown(Duration grace) {
        this.grace = grace;
    }

    void manage(BridgePool managed) {
        this.pool = managed;
    }

    @Override
    public void destroy() {
        BridgePool managed = pool;
        if (managed != null) {
            managed.close(grace);
        }
    }
}

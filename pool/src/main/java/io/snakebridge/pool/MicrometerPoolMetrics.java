package io.snakebridge.pool;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.TimeUnit;

/** SnakeBridge's meters, tagged with the pool name. Loaded only when a registry is configured. */
final class MicrometerPoolMetrics implements PoolMetrics {
    private final MeterRegistry registry;
    private final String pool;
    private final Timer calls;
    private final Counter refLimitRejections;
    private final Counter workerCrashes;
    private final DistributionSummary refsReleasedOnReturn;

    MicrometerPoolMetrics(Object registry, String pool) {
        if (!(registry instanceof MeterRegistry)) {
            throw new IllegalArgumentException("metricRegistry must be a Micrometer MeterRegistry, got " + registry.getClass().getName());
        }
        this.registry = (MeterRegistry) registry;
        this.pool = pool;
        this.calls = Timer.builder("snakebridge.calls").description("Calls through pooled connections")
                .tag("pool", pool).register(this.registry);
        this.refLimitRejections = Counter.builder("snakebridge.refs.limit.rejections")
                .description("Results refused because the session was at maxRefs").tag("pool", pool).register(this.registry);
        this.workerCrashes = Counter.builder("snakebridge.worker.crashes").description("Workers that died during a call")
                .tag("pool", pool).register(this.registry);
        this.refsReleasedOnReturn = DistributionSummary.builder("snakebridge.refs.released.on.return")
                .description("Refs a borrower left open, released by the session reset on return").tag("pool", pool)
                .register(this.registry);
    }

    @Override
    public void call(long nanos) {
        calls.record(nanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void pythonError(String pythonType) {
        registry.counter("snakebridge.python.errors", "pool", pool, "type", pythonType).increment();
    }

    @Override
    public void refLimitRejected() {
        refLimitRejections.increment();
    }

    @Override
    public void eviction(String reason) {
        Counter.builder("snakebridge.evictions").description("Connections evicted because their worker broke, by reason")
                .tags("pool", pool, "reason", reason).register(registry).increment();
    }

    @Override
    public void workerCrash() {
        workerCrashes.increment();
    }

    @Override
    public void refsReleasedOnReturn(int count) {
        refsReleasedOnReturn.record(count);
    }
}

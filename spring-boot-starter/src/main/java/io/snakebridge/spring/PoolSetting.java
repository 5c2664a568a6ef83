package io.snakebridge.spring;

import io.snakebridge.pool.BorrowIsolation;
import io.snakebridge.pool.BridgePoolConfig;
import java.time.Duration;
import java.util.function.BiConsumer;

/**
 * The {@link BridgePoolConfig} settings that properties can set, by the names of README's pool settings
 * table (their defaults and meanings live there and in {@code BridgePoolConfig}). {@code metricRegistry}
 * is not among them: the application's {@code MeterRegistry} bean is used.
 */
enum PoolSetting {
    POOL_SIZE("poolSize", Integer.class, (b, v) -> b.poolSize((Integer) v)),
    MINIMUM_IDLE("minimumIdle", Integer.class, (b, v) -> b.minimumIdle((Integer) v)),
    MAX_LIFETIME("maxLifetime", Duration.class, (b, v) -> b.maxLifetime((Duration) v)),
    IDLE_TIMEOUT("idleTimeout", Duration.class, (b, v) -> b.idleTimeout((Duration) v)),
    CONNECTION_TIMEOUT("connectionTimeout", Duration.class, (b, v) -> b.connectionTimeout((Duration) v)),
    LEAK_DETECTION_THRESHOLD("leakDetectionThreshold", Duration.class, (b, v) -> b.leakDetectionThreshold((Duration) v)),
    POOL_NAME("poolName", String.class, (b, v) -> b.poolName((String) v)),
    BORROW_ISOLATION("borrowIsolation", BorrowIsolation.class, (b, v) -> b.borrowIsolation((BorrowIsolation) v));

    private final String key;
    private final Class<?> type;
    private final BiConsumer<BridgePoolConfig.Builder, Object> write;

    PoolSetting(String key, Class<?> type, BiConsumer<BridgePoolConfig.Builder, Object> write) {
        this.key = key;
        this.type = type;
        this.write = write;
    }

    String key() {
        return key;
    }

    Class<?> type() {
        return type;
    }

    void apply(BridgePoolConfig.Builder builder, Object value) {
        write.accept(builder, value);
    }
}

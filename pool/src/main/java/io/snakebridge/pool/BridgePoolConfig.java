package io.snakebridge.pool;

import io.snakebridge.BridgeConfig;
import java.time.Duration;
import java.util.Objects;

/**
 * How a {@link BridgePool} sizes and ages its workers, plus the {@link BridgeConfig} each worker
 * starts with. Immutable; the defaults (README "Pool settings") are the constants below.
 */
public final class BridgePoolConfig {
    static final int DEFAULT_POOL_SIZE = 4;
    static final Duration DEFAULT_MAX_LIFETIME = Duration.ofMinutes(30);
    static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofMinutes(10);
    static final Duration DEFAULT_CONNECTION_TIMEOUT = Duration.ofSeconds(30);
    static final Duration DEFAULT_LEAK_DETECTION_THRESHOLD = Duration.ZERO;
    static final String DEFAULT_POOL_NAME = "snakebridge";
    static final BorrowIsolation DEFAULT_BORROW_ISOLATION = BorrowIsolation.SESSION;

    private final int poolSize;
    private final int minimumIdle;
    private final Duration maxLifetime;
    private final Duration idleTimeout;
    private final Duration connectionTimeout;
    private final Duration leakDetectionThreshold;
    private final String poolName;
    private final BridgeConfig bridge;
    private final Object metricRegistry;
    private final BorrowIsolation borrowIsolation;

    private BridgePoolConfig(Builder b) {
        this.poolSize = b.poolSize;
        this.minimumIdle = b.minimumIdle < 0 ? b.poolSize : Math.min(b.minimumIdle, b.poolSize);
        this.maxLifetime = b.maxLifetime;
        this.idleTimeout = b.idleTimeout;
        this.connectionTimeout = b.connectionTimeout;
        this.leakDetectionThreshold = b.leakDetectionThreshold;
        this.poolName = b.poolName;
        this.bridge = b.bridge;
        this.metricRegistry = b.metricRegistry;
        this.borrowIsolation = b.borrowIsolation;
    }

    /**
     * A builder starting from the defaults.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The defaults: {@value #DEFAULT_POOL_SIZE} workers with default {@link BridgeConfig} settings.
     *
     * @return the default configuration
     */
    public static BridgePoolConfig defaults() {
        return builder().build();
    }

    /**
     * Most workers (connections) the pool holds. Each is a process: size it to the cores Python should use.
     *
     * @return the pool size, at least 1
     */
    public int poolSize() {
        return poolSize;
    }

    /**
     * Workers kept ready when idle; defaults to {@link #poolSize()} (a fixed pool, as HikariCP recommends).
     *
     * @return the minimum number of idle workers, at most {@link #poolSize()}
     */
    public int minimumIdle() {
        return minimumIdle;
    }

    /**
     * A worker older than this is retired once idle (recycling the Python process).
     *
     * @return the longest a worker lives
     */
    public Duration maxLifetime() {
        return maxLifetime;
    }

    /**
     * A worker idle this long is retired, while the pool holds more than {@link #minimumIdle()}.
     *
     * @return the idle timeout
     */
    public Duration idleTimeout() {
        return idleTimeout;
    }

    /**
     * How long {@link BridgePool#getConnection()} waits for a free worker.
     *
     * @return the borrow timeout
     */
    public Duration connectionTimeout() {
        return connectionTimeout;
    }

    /**
     * Logs a connection borrowed longer than this (a leak suspect); zero is off.
     *
     * @return the leak detection threshold, zero when off
     */
    public Duration leakDetectionThreshold() {
        return leakDetectionThreshold;
    }

    /**
     * The pool's name, in HikariCP's thread names, logs and the metrics' {@code pool} tag.
     *
     * @return the pool name
     */
    public String poolName() {
        return poolName;
    }

    /**
     * The settings each worker starts with (limits apply per session: per borrow).
     *
     * @return the workers' configuration
     */
    public BridgeConfig bridge() {
        return bridge;
    }

    /**
     * A Micrometer {@code MeterRegistry}, or null. Typed Object so Micrometer stays an optional dependency.
     *
     * @return the meter registry, or null when the pool has no metrics
     */
    public Object metricRegistry() {
        return metricRegistry;
    }

    /**
     * What a borrower can leave behind for the next: a session reset, or a fresh process per borrow.
     *
     * @return the borrow isolation
     */
    public BorrowIsolation borrowIsolation() {
        return borrowIsolation;
    }

    /** Builds a {@link BridgePoolConfig}; each setter validates its value and says what it throws. */
    public static final class Builder {
        private int poolSize = DEFAULT_POOL_SIZE;
        private int minimumIdle = -1;
        private Duration maxLifetime = DEFAULT_MAX_LIFETIME;
        private Duration idleTimeout = DEFAULT_IDLE_TIMEOUT;
        private Duration connectionTimeout = DEFAULT_CONNECTION_TIMEOUT;
        private Duration leakDetectionThreshold = DEFAULT_LEAK_DETECTION_THRESHOLD;
        private String poolName = DEFAULT_POOL_NAME;
        private BridgeConfig bridge = BridgeConfig.defaults();
        private Object metricRegistry;
        private BorrowIsolation borrowIsolation = DEFAULT_BORROW_ISOLATION;

        private Builder() {
        }

        /**
         * Most workers the pool holds (default {@value BridgePoolConfig#DEFAULT_POOL_SIZE}).
         *
         * @param size at least 1
         * @return this builder
         * @throws IllegalArgumentException when {@code size} is below 1
         */
        public Builder poolSize(int size) {
            if (size < 1) {
                throw new IllegalArgumentException("poolSize must be >= 1, got " + size);
            }
            this.poolSize = size;
            return this;
        }

        /**
         * Workers kept ready when idle (default: the pool size); above the pool size it is the pool size.
         *
         * @param idle at least 0
         * @return this builder
         * @throws IllegalArgumentException when {@code idle} is negative
         */
        public Builder minimumIdle(int idle) {
            if (idle < 0) {
                throw new IllegalArgumentException("minimumIdle must be >= 0, got " + idle);
            }
            this.minimumIdle = idle;
            return this;
        }

        /**
         * A worker older than this is retired once idle (default 30 minutes).
         *
         * @param lifetime positive
         * @return this builder
         * @throws IllegalArgumentException when {@code lifetime} is zero or negative
         */
        public Builder maxLifetime(Duration lifetime) {
            this.maxLifetime = positive(lifetime, "maxLifetime");
            return this;
        }

        /**
         * A worker idle this long is retired while more than the minimum are idle (default 10 minutes).
         *
         * @param timeout positive
         * @return this builder
         * @throws IllegalArgumentException when {@code timeout} is zero or negative
         */
        public Builder idleTimeout(Duration timeout) {
            this.idleTimeout = positive(timeout, "idleTimeout");
            return this;
        }

        /**
         * How long a borrow waits for a free worker (default 30 seconds).
         *
         * @param timeout positive
         * @return this builder
         * @throws IllegalArgumentException when {@code timeout} is zero or negative
         */
        public Builder connectionTimeout(Duration timeout) {
            this.connectionTimeout = positive(timeout, "connectionTimeout");
            return this;
        }

        /**
         * Logs a connection borrowed longer than this (default zero: off).
         *
         * @param threshold zero or positive
         * @return this builder
         * @throws IllegalArgumentException when {@code threshold} is negative
         */
        public Builder leakDetectionThreshold(Duration threshold) {
            if (Objects.requireNonNull(threshold, "leakDetectionThreshold").isNegative()) {
                throw new IllegalArgumentException("leakDetectionThreshold must not be negative");
            }
            this.leakDetectionThreshold = threshold;
            return this;
        }

        /**
         * The pool's name (default {@value BridgePoolConfig#DEFAULT_POOL_NAME}).
         *
         * @param name not null
         * @return this builder
         */
        public Builder poolName(String name) {
            this.poolName = Objects.requireNonNull(name, "poolName");
            return this;
        }

        /**
         * The settings each worker starts with (default {@link BridgeConfig#defaults()}).
         *
         * @param config not null
         * @return this builder
         */
        public Builder bridge(BridgeConfig config) {
            this.bridge = Objects.requireNonNull(config, "bridge");
            return this;
        }

        /**
         * A Micrometer {@code MeterRegistry}: HikariCP's pool meters plus SnakeBridge's (README "Metrics").
         *
         * @param registry a {@code io.micrometer.core.instrument.MeterRegistry}, or null for no metrics
         * @return this builder
         */
        public Builder metricRegistry(Object registry) {
            this.metricRegistry = registry;
            return this;
        }

        /**
         * {@link BorrowIsolation#SESSION} (the default) or {@link BorrowIsolation#PROCESS}.
         *
         * @param isolation not null
         * @return this builder
         */
        public Builder borrowIsolation(BorrowIsolation isolation) {
            this.borrowIsolation = Objects.requireNonNull(isolation, "borrowIsolation");
            return this;
        }

        /**
         * The configuration as set so far.
         *
         * @return an immutable configuration
         */
        public BridgePoolConfig build() {
            return new BridgePoolConfig(this);
        }

        private static Duration positive(Duration d, String name) {
            if (Objects.requireNonNull(d, name).isNegative() || d.isZero()) {
                throw new IllegalArgumentException(name + " must be positive, got " + d);
            }
            return d;
        }
    }
}

package io.snakebridge.pool;

/** What a pool reports; {@link #NONE} when no registry is configured, so Micrometer stays optional. */
interface PoolMetrics {
    void call(long nanos);

    void pythonError(String pythonType);

    void refLimitRejected();

    /** {@code reason}: "worker_died" (its process ended) or "broken" (its stream or session failed). */
    void eviction(String reason);

    void workerCrash();

    void refsReleasedOnReturn(int count);

    PoolMetrics NONE = new PoolMetrics() {
        @Override
        public void call(long nanos) {
        }

        @Override
        public void pythonError(String pythonType) {
        }

        @Override
        public void refLimitRejected() {
        }

        @Override
        public void eviction(String reason) {
        }

        @Override
        public void workerCrash() {
        }

        @Override
        public void refsReleasedOnReturn(int count) {
        }
    };
}

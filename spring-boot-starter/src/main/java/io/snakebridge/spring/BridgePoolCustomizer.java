package io.snakebridge.spring;

import io.snakebridge.BridgeConfig;
import io.snakebridge.pool.BridgePoolConfig;

/**
 * Adjusts the auto-configured pool's configuration in code, after the {@code snakebridge.*} properties
 * were applied: for what properties cannot say, such as a {@link io.snakebridge.RequestListener}. Every
 * customizer bean is called, in {@link org.springframework.core.annotation.Order} order.
 *
 * <pre>{@code
 * @Bean
 * BridgePoolCustomizer requestLogging() {
 *     return (pool, workers) -> workers.requestListener(new MyRequestListener());
 * }
 * }</pre>
 */
@FunctionalInterface
public interface BridgePoolCustomizer {
    /**
     * Changes the configuration before the pool is built.
     *
     * @param pool the pool's settings, properties applied
     * @param workers the settings each worker starts with, properties applied
     */
    void customize(BridgePoolConfig.Builder pool, BridgeConfig.Builder workers);
}

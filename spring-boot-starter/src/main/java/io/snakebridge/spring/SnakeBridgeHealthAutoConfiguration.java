package io.snakebridge.spring;

import io.snakebridge.pool.BridgePool;
import org.springframework.boot.actuate.autoconfigure.health.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.actuate.health.HealthIndicator;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnSingleCandidate;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.annotation.Bean;
import org.springframework.core.env.Environment;

/**
 * The pool's health, {@code snakebridge} in {@code /actuator/health}, when Spring Boot Actuator is
 * there: switched off with {@code management.health.snakebridge.enabled=false}. Serves the
 * application's own {@link BridgePool} bean as well as the auto-configured one.
 */
@AutoConfiguration(after = SnakeBridgeAutoConfiguration.class)
@ConditionalOnClass(name = "org.springframework.boot.actuate.health.HealthIndicator")
@ConditionalOnSingleCandidate(BridgePool.class)
@ConditionalOnEnabledHealthIndicator("snakebridge")
public class SnakeBridgeHealthAutoConfiguration {

    /** Used by Spring; the bean comes from the method below. */
    public SnakeBridgeHealthAutoConfiguration() {
    }

    /**
     * The health indicator: UP when a worker answers a ping within {@code snakebridge.health-timeout}.
     *
     * @param pool the application's pool
     * @param environment where {@code snakebridge.health-timeout} is read
     * @return the indicator, named {@code snakebridge}
     */
    @Bean
    @ConditionalOnMissingBean(name = "snakebridgeHealthIndicator")
    public HealthIndicator snakebridgeHealthIndicator(BridgePool pool, Environment environment) {
        return new BridgePoolHealthIndicator(pool,
                new SnakeBridgeProperties(Binder.get(environment)).duration(StarterSetting.HEALTH_TIMEOUT));
    }
}

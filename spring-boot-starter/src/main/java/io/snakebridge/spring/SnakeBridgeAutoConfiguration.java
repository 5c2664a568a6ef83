package io.snakebridge.spring;

import io.micrometer.core.instrument.MeterRegistry;
import io.snakebridge.BridgeConfig;
import io.snakebridge.pool.BridgePool;
import io.snakebridge.pool.BridgePoolConfig;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;

/**
 * A {@link BridgePool} from the {@code snakebridge.*} properties (README "Spring Boot"), unless the
 * application defines its own. Its meters go to the application's Micrometer {@code MeterRegistry}
 * when there is one, and on context close its borrowers get {@code snakebridge.shutdown-grace-period}
 * to finish their calls before those are cancelled; no worker process outlives the context.
 */
@AutoConfiguration(afterName = "org.springframework.boot.actuate.autoconfigure.metrics.CompositeMeterRegistryAutoConfiguration")
@ConditionalOnClass(BridgePool.class)
public class SnakeBridgeAutoConfiguration {

    /** Used by Spring; the beans come from the methods below. */
    public SnakeBridgeAutoConfiguration() {
    }

    /**
     * The pool's configuration: the properties, then every {@link BridgePoolCustomizer}.
     *
     * @param environment where the {@code snakebridge.*} properties are read
     * @param customizers the application's adjustments in code, in order
     * @return the configuration the pool is built from
     * @throws IllegalArgumentException naming the property, for a value a setting refuses
     */
    @Bean
    @ConditionalOnMissingBean
    public BridgePoolConfig snakebridgePoolConfig(Environment environment, ObjectProvider<BridgePoolCustomizer> customizers) {
        SnakeBridgeProperties properties = new SnakeBridgeProperties(Binder.get(environment));
        BridgePoolConfig.Builder pool = properties.pool();
        BridgeConfig.Builder workers = properties.workers();
        customizers.orderedStream().forEach(customizer -> customizer.customize(pool, workers));
        return pool.bridge(workers.build()).build();
    }

    /**
     * The pool and what closes it, when the application has no {@link BridgePool} of its own (its own is
     * closed the way it says, by Spring's inferred {@code close()} unless told otherwise).
     */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnMissingBean(BridgePool.class)
    static class Pool {
        @Bean
        GracefulPoolShutdown snakebridgePoolShutdown(Environment environment) {
            return new GracefulPoolShutdown(
                    new SnakeBridgeProperties(Binder.get(environment)).duration(StarterSetting.SHUTDOWN_GRACE_PERIOD));
        }

        /**
         * Started with its workers: a pool whose first worker cannot start fails the application's start, as
         * a data source does; workers that cannot be replaced later turn its health DOWN. Closed by
         * {@link GracefulPoolShutdown}, not by Spring's inferred {@code close()}, which would kill running
         * calls at once.
         */
        @Bean(destroyMethod = "")
        BridgePool snakebridgePool(BridgePoolConfig config, GracefulPoolShutdown shutdown) {
            BridgePool pool = new BridgePool(config);
            shutdown.manage(pool);
            return pool;
        }
    }

    /** The pool's meters on the application's registry, when Micrometer is there. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "io.micrometer.core.instrument.MeterRegistry")
    static class Metrics {
        @Bean
        BridgePoolCustomizer snakebridgeMeterRegistry(ObjectProvider<MeterRegistry> registry) {
            return (pool, workers) -> registry.ifUnique(pool::metricRegistry);
        }
    }
}

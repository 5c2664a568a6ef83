package io.snakebridge.spring.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.snakebridge.pool.BridgePool;
import io.snakebridge.pool.BridgePoolConfig;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;

/** The README's example as a Spring Boot application: properties in, a pool injected into a service, real workers. */
@SpringBootTest(properties = {"snakebridge.pool-size=2", "snakebridge.max-refs=1000"}) // snakebridge.python: the build's, a system property
@Timeout(120)
class StatisticsApplicationTest {
    @Autowired
    StatisticsService statistics;
    @Autowired
    BridgePool pool;
    @Autowired
    BridgePoolConfig config;

    @Test
    void aServiceCallsPythonThroughTheInjectedPool() {
        assertThat(statistics.mean(List.of(1.0, 2.0, 3.0, 4.0))).isEqualTo(2.5);
        assertThat(config.poolSize()).isEqualTo(2);
        assertThat(config.bridge().maxRefs()).isEqualTo(1000);
        assertThat(pool.activeConnections()).as("the service returned its borrow").isZero();
    }
}

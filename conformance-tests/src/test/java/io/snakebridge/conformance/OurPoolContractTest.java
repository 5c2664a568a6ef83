package io.snakebridge.conformance;

import io.snakebridge.BridgeConfig;
import io.snakebridge.BridgeConnection;
import io.snakebridge.conformance.contract.BridgePoolContract;
import io.snakebridge.pool.BridgePool;
import io.snakebridge.pool.BridgePoolConfig;
import org.junit.jupiter.api.AfterEach;

/** This release's pool, held to the pool contract it ships. */
class OurPoolContractTest extends BridgePoolContract {
    private final BridgePool pool = new BridgePool(BridgePoolConfig.builder().poolSize(1)
            .bridge(BridgeConfig.builder().python(System.getProperty("snakebridge.python", "python3")).build()).build());

    @Override
    protected BridgeConnection borrow() {
        return pool.getConnection();
    }

    @AfterEach
    void closePool() {
        pool.close();
    }
}

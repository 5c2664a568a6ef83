package com.example;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.snakebridge.BridgeConfig;
import io.snakebridge.BridgeConnection;
import io.snakebridge.SnakeBridge;
import io.snakebridge.pool.BridgePool;
import io.snakebridge.pool.BridgePoolConfig;
import java.math.BigInteger;
import org.junit.jupiter.api.Test;

/** What a user writes after adding the BOM, the driver and the pool: one call each way. */
class UsesSnakeBridgeTest {
    private static final BridgeConfig CONFIG =
            BridgeConfig.builder().python(System.getProperty("snakebridge.python", "python3")).build();

    @Test
    void aConnectionCallsPython() {
        try (BridgeConnection py = SnakeBridge.connect(CONFIG)) {
            assertEquals(new BigInteger("265252859812191058636308480000000"), py.call("math.factorial", 30).asBigInteger());
        }
    }

    @Test
    void aPooledConnectionCallsPython() {
        try (BridgePool pool = new BridgePool(BridgePoolConfig.builder().bridge(CONFIG).poolSize(1).build());
             BridgeConnection py = pool.getConnection()) {
            assertEquals(2.5, py.call("statistics.mean", java.util.List.of(1, 2, 3, 4)).asDouble());
        }
    }
}

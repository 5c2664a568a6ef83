package io.snakebridge.conformance;

import io.snakebridge.BridgeConfig;
import io.snakebridge.BridgeConnection;
import io.snakebridge.SnakeBridge;
import io.snakebridge.conformance.contract.BridgeConnectionContract;

/** This release's driver, held to the driver contract it ships. */
class OurDriverContractTest extends BridgeConnectionContract {
    @Override
    protected BridgeConnection connect() {
        return SnakeBridge.connect(BridgeConfig.builder().python(System.getProperty("snakebridge.python", "python3")).build());
    }
}

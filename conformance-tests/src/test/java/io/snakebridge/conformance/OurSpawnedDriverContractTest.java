package io.snakebridge.conformance;

import io.snakebridge.BridgeConfig;
import io.snakebridge.BridgeConnection;
import io.snakebridge.SnakeBridge;
import io.snakebridge.WorkerStart;
import io.snakebridge.conformance.contract.BridgeConnectionContract;

/** The driver contract again for workers spawned as fresh interpreters ({@link OurDriverContractTest} forks them). */
class OurSpawnedDriverContractTest extends BridgeConnectionContract {
    @Override
    protected BridgeConnection connect() {
        return SnakeBridge.connect(BridgeConfig.builder().python(System.getProperty("snakebridge.python", "python3"))
                .workerStart(WorkerStart.SPAWN).build());
    }
}

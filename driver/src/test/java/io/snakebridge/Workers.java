package io.snakebridge;

import java.nio.file.Path;

/** Configuration for tests that start real workers. */
final class Workers {
    static final Path FIXTURES = Path.of("src/test/python").toAbsolutePath();

    private Workers() {
    }

    static BridgeConfig.Builder config() {
        return BridgeConfig.builder().python(System.getProperty("snakebridge.python", "python3")).pythonPath(FIXTURES);
    }

    static WorkerConnection connect(BridgeConfig.Builder config) {
        return (WorkerConnection) SnakeBridge.connect(config.build());
    }

    static WorkerConnection connect() {
        return connect(config());
    }
}

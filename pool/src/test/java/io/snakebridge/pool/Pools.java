package io.snakebridge.pool;

import io.snakebridge.BridgeConfig;

final class Pools {
    static final String PYTHON = System.getProperty("snakebridge.python", "python3");

    private Pools() {
    }

    static BridgePoolConfig.Builder config(int size) {
        return BridgePoolConfig.builder().poolSize(size).bridge(BridgeConfig.builder().python(PYTHON).build());
    }

    static long workerPid(io.snakebridge.BridgeConnection py) {
        return py.call("os.getpid").asLong();
    }

    static void kill(long pid) throws Exception {
        ProcessHandle worker = ProcessHandle.of(pid).orElseThrow();
        worker.destroyForcibly();
        worker.onExit().get();
    }
}

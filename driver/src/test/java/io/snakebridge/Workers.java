package io.snakebridge;

import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

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

    /**
     * Runs {@code cancel} once {@code running} holds (the call made its mark, a callback ran): a cancel
     * before the call awaits its answer has no request to name (CANCEL-3), so it awaits the call, never
     * a fixed time. Completes with false, having run nothing, if that does not happen within 30 s.
     */
    static CompletableFuture<Boolean> cancelOnceRunning(BooleanSupplier running, Runnable cancel) {
        return CompletableFuture.supplyAsync(() -> {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!running.getAsBoolean()) {
                if (System.nanoTime() > deadline) {
                    return false;
                }
                try {
                    Thread.sleep(5);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
            cancel.run();
            return true;
        });
    }
}

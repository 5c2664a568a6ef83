package io.snakebridge;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** Base of test classes whose tests share one real worker (each starts its own where it must). */
abstract class SharedWorkerTest {
    static WorkerConnection py;

    @BeforeAll
    static void startSharedWorker() {
        py = Workers.connect();
    }

    @AfterAll
    static void stopSharedWorker() {
        py.close();
    }
}

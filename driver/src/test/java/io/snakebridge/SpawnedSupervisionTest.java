package io.snakebridge;

/** Every supervision rule of {@link SupervisionTest}, for workers spawned as fresh interpreters. */
class SpawnedSupervisionTest extends SupervisionTest {
    @Override
    WorkerStart mode() {
        return WorkerStart.SPAWN;
    }
}

package io.snakebridge;

/** How a connection gets its worker process (README "Worker start"). */
public enum WorkerStart {
    /**
     * Forked by a worker server that this JVM starts once per configuration and that has imported
     * the {@code preload} modules already: a connection costs a fork, a few milliseconds. Linux and
     * macOS.
     */
    FORK,
    /** A fresh interpreter per connection: what works everywhere, at the cost of an interpreter start. */
    SPAWN
}

package io.snakebridge.pool;

/**
 * What one borrower of a {@link BridgePool} can leave behind for the next.
 */
public enum BorrowIsolation {
    /**
     * Return resets the session: every ref released, a new session id, old handles fail fast. The
     * worker process stays, so module state stays too: a borrower that set {@code math.pi = 3},
     * replaced a function in a module or filled a module's cache changes what later borrowers of that
     * worker see. Fast (one round trip); right when borrowers are the same trusted application.
     */
    SESSION,
    /**
     * Return retires the worker: each borrow gets a process no earlier borrower has touched, and the
     * pool starts a replacement in the background. Costs a worker start per borrow (see README
     * "Pools"); right when borrowers must not affect each other (a tenant per borrow, say).
     */
    PROCESS
}

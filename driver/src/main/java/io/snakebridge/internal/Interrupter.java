package io.snakebridge.internal;

import io.snakebridge.BridgeException;
import io.snakebridge.CallCancelledException;
import io.snakebridge.CallTimeoutException;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The cancel/timeout ladder (PROTOCOL.md CANCEL-*): SIGINT to the request awaiting its response,
 * SIGKILL after cancelGrace if it did not stop. Each request awaits in a {@link Scope}; a callback's
 * nested request enters its own scope and leaving it gives the outer one back, so an interrupt
 * always targets the innermost request in flight.
 */
final class Interrupter {
    /** One timer thread for every connection's timeouts, escalations and start deadlines. */
    static final ScheduledExecutorService WATCHDOG = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "snakebridge-watchdog");
        t.setDaemon(true);
        return t;
    });

    /** Why a request is being interrupted. */
    enum Why { CANCEL, TIMEOUT }

    private final Transport transport;
    private final Duration cancelGrace;
    private final Object lock = new Object();
    private Scope current; // guarded by lock: the innermost request awaiting its response
    private boolean shutDown; // guarded by lock

    Interrupter(Transport transport, Duration cancelGrace) {
        this.transport = transport;
        this.cancelGrace = cancelGrace;
    }

    /** One request awaiting its response; close it when the response (or the end of the stream) is read. */
    final class Scope implements AutoCloseable {
        private final long requestId;
        private final Duration timeout;
        private final Scope outer;
        private final ScheduledFuture<?> timer;
        private Why why;                       // guarded by lock
        private boolean killed;                // guarded by lock
        private ScheduledFuture<?> escalation; // guarded by lock

        private Scope(long requestId, Duration timeout, Scope outer) {
            this.requestId = requestId;
            this.timeout = timeout;
            this.outer = outer;
            this.timer = timeout.isZero() ? null
                    : WATCHDOG.schedule(() -> interrupt(this, Why.TIMEOUT), timeout.toNanos(), TimeUnit.NANOSECONDS);
        }

        @Override
        public void close() {
            if (timer != null) {
                timer.cancel(false);
            }
            synchronized (lock) {
                if (escalation != null) {
                    escalation.cancel(false);
                }
                current = outer;
            }
        }

        /** Whether the request was interrupted (null: it was not), read after {@link #close()}. */
        Why why() {
            synchronized (lock) {
                return why;
            }
        }

        boolean killed() {
            synchronized (lock) {
                return killed;
            }
        }

        /** The exception for an interrupted request: the call stopped, or the worker had to be killed. */
        BridgeException failure(Throwable cause) {
            boolean wasKilled = killed();
            String what = why() == Why.TIMEOUT ? "the call exceeded its timeout of " + timeout : "the call was cancelled";
            String outcome = wasKilled
                    ? "; it did not stop within cancelGrace=" + cancelGrace + ", so the worker was killed and the connection is broken"
                    : "; it was interrupted (KeyboardInterrupt) and the session and its refs are intact";
            return why() == Why.TIMEOUT
                    ? new CallTimeoutException(what + outcome, wasKilled, cause)
                    : new CallCancelledException(what + outcome, wasKilled, cause);
        }
    }

    /** Starts awaiting the response to {@code requestId}, interrupted once {@code timeout} (zero: none) has passed. */
    Scope enter(long requestId, Duration timeout) {
        synchronized (lock) {
            Scope scope = new Scope(requestId, timeout, current);
            current = scope;
            return scope;
        }
    }

    /** Interrupts the request in flight, if any. */
    void cancel() {
        synchronized (lock) {
            if (current != null) {
                interrupt(current, Why.CANCEL);
            }
        }
    }

    /** No interrupt is sent from now on: the connection is closing. */
    void shutDown() {
        synchronized (lock) {
            shutDown = true;
        }
    }

    /**
     * SIGINT now, naming the scope's request (the worker drops it if that request has answered
     * meanwhile, CANCEL-3), and SIGKILL after cancelGrace unless the request answers first; where
     * signals are unavailable the worker is killed at once.
     */
    private void interrupt(Scope scope, Why why) {
        synchronized (lock) {
            if (current != scope || scope.why != null || shutDown) {
                return;
            }
            scope.why = why;
            if (transport.interrupt(scope.requestId)) {
                scope.escalation = WATCHDOG.schedule(() -> kill(scope), cancelGrace.toNanos(), TimeUnit.NANOSECONDS);
                return;
            }
        }
        kill(scope);
    }

    private void kill(Scope scope) {
        synchronized (lock) {
            if (current != scope) {
                return;
            }
            scope.killed = true;
        }
        transport.sever(); // the blocked reader sees EOF and reports the interruption
    }
}

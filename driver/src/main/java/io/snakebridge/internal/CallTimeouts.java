package io.snakebridge.internal;

import java.time.Duration;
import java.util.function.Supplier;

/** The call timeout in force on each thread: the configured one, or a {@code withCallTimeout} override around some calls. */
final class CallTimeouts {
    private final Duration configured;
    private final ThreadLocal<Duration> override = new ThreadLocal<>();

    CallTimeouts(Duration configured) {
        this.configured = configured;
    }

    Duration current() {
        Duration timeout = override.get();
        return timeout == null ? configured : timeout;
    }

    <T> T with(Duration timeout, Supplier<T> calls) {
        if (timeout.isNegative()) {
            throw new IllegalArgumentException("timeout must not be negative, got " + timeout);
        }
        Duration outer = override.get();
        override.set(timeout);
        try {
            return calls.get();
        } finally {
            if (outer == null) {
                override.remove();
            } else {
                override.set(outer);
            }
        }
    }
}

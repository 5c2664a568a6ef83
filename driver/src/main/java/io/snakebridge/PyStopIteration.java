package io.snakebridge;

/** The wire's {@code stop_iteration} marker: the end of a Python iterator, as a value. */
public enum PyStopIteration {
    /** The marker. */
    INSTANCE
}

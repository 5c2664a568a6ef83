package io.snakebridge.internal;

import io.snakebridge.BridgeException;

/** Told when a request ends, on every path alike. Public: the connection facade passes the API's listener through it. */
public interface RequestObserver {
    void ended(String op, long nanos, BridgeException failure);
}

package io.snakebridge.conformance;

import java.util.List;

/**
 * What the worker under test declares at a handshake of its own, before the suite runs: the
 * capabilities that decide which capability rules bind it (HS-4), and the protocol version it agrees.
 *
 * @param capabilities  the capabilities it declares (empty if the handshake failed)
 * @param agreedVersion the protocol version it agreed (0 if the handshake failed)
 * @param failure       why the handshake failed, or null
 */
record WorkerProbe(List<String> capabilities, int agreedVersion, String failure) {

    /** Starts the worker under test, handshakes and stops it. */
    static WorkerProbe probe() {
        try (ProtocolClient client = ProtocolClient.connect()) {
            return new WorkerProbe(List.copyOf(client.capabilities()), client.hello().path("protocol_version").asInt(), null);
        } catch (RuntimeException | AssertionError e) {
            return new WorkerProbe(List.of(), 0, String.valueOf(e.getMessage()));
        }
    }
}

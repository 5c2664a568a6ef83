package io.snakebridge.internal;

import com.fasterxml.jackson.databind.JsonNode;
import io.snakebridge.BridgeException;
import io.snakebridge.ProtocolException;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * What the worker said in its handshake (PROTOCOL.md HS-3), checked and immutable. Public: the
 * connection facade asks it for capabilities before it sends what needs one (HS-4).
 */
public final class WorkerHello {
    static final int PROTOCOL_VERSION = 1;
    static final int MIN_SUPPORTED_VERSION = 1;

    private final JsonNode raw;
    private final String workerName;
    private final Set<String> capabilities;
    private final String workerId;
    private final int maxAttachments;

    private WorkerHello(JsonNode raw, String workerName) {
        this.raw = raw;
        this.workerName = workerName;
        Set<String> declared = new HashSet<>();
        raw.path("capabilities").forEach(c -> declared.add(c.asText()));
        this.capabilities = Set.copyOf(declared);
        this.workerId = raw.path("worker_id").asText(null);
        this.maxAttachments = raw.path("limits").path("max_attachments").asInt(0);
    }

    /** Checks that the worker adopted every limit we asked for (HS-5) and speaks a version we do. */
    static WorkerHello verify(JsonNode raw, Map<String, Number> requestedLimits, String workerName) {
        requestedLimits.forEach((name, value) -> {
            if (raw.path("limits").path(name).asLong(-1) != value.longValue()) {
                throw new ProtocolException("worker did not adopt " + name + "=" + value + " (HS-5); it reports " + raw.path("limits"));
            }
        });
        int version = raw.path("protocol_version").asInt(-1);
        if (version < MIN_SUPPORTED_VERSION || version > PROTOCOL_VERSION) {
            throw new ProtocolException("worker agreed to protocol version " + version + ", this driver speaks "
                    + MIN_SUPPORTED_VERSION + ".." + PROTOCOL_VERSION);
        }
        return new WorkerHello(raw, workerName);
    }

    public boolean has(String capability) {
        return capabilities.contains(capability);
    }

    /** Refuses, without a round trip, what the worker did not declare it can do (PROTOCOL.md HS-4). */
    public void require(String capability, String what) {
        if (!has(capability)) {
            throw new BridgeException("unsupported", "0A000", what + " needs capability '" + capability + "', which "
                    + workerName + " does not declare (PROTOCOL.md HS-4)", null);
        }
    }

    /** The worker's id, stamped on its refs; null if it sent none. */
    public String workerId() {
        return workerId;
    }

    int maxAttachments() {
        return maxAttachments;
    }

    /** The handshake result as the worker sent it. */
    public JsonNode raw() {
        return raw;
    }
}

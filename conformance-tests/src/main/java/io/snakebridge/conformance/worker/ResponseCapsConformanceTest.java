package io.snakebridge.conformance.worker;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.snakebridge.conformance.ProtocolClient;
import io.snakebridge.conformance.Requirement;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The client's caps on what it reads (RESP-*): past them the worker sends no part of the result, only an error. */
class ResponseCapsConformanceTest extends WorkerConformance {
    private static final int MAX_BYTES = 4096;
    private static final int MAX_VALUES = 100;

    /** A fresh worker that agreed to the caps above (HS-5), and sends binary values as attachments if it can. */
    private static ProtocolClient capped() {
        ProtocolClient client = ProtocolClient.start();
        JsonNode hello = ok(client.request("handshake", fields("protocol_version", 1, "min_supported_version", 1,
                "client_capabilities", List.of("attachments"),
                "limits", fields("max_response_bytes", MAX_BYTES, "max_response_elements", MAX_VALUES))));
        assertThat(hello.path("limits").path("max_response_bytes").asLong()).isEqualTo(MAX_BYTES);
        assertThat(hello.path("limits").path("max_response_elements").asLong()).isEqualTo(MAX_VALUES);
        return client;
    }

    private static JsonNode eval(ProtocolClient client, String expression) {
        return client.request("call", "s", fields("function", "eval", "args", List.of(expression)));
    }

    /** The result of a response that was sent, its attachment frames read (ATT-1). */
    private static JsonNode sent(ProtocolClient client, JsonNode response) {
        for (int i = 0; i < response.path("attachments").asInt(0); i++) {
            assertThat(client.readRawFrame()).isNotNull();
        }
        return ok(response);
    }

    /** The error that replaced a response past {@code setting}, with no attachment of the result after it. */
    private static void refused(JsonNode response, String setting, int limit) {
        JsonNode error = error(response, "invalid_value");
        assertThat(error.path("details").path("setting").asText()).as("details.setting of %s", response).isEqualTo(setting);
        assertThat(error.path("details").path("limit").asLong()).isEqualTo(limit);
        assertThat(response.has("attachments")).isFalse();
    }

    private static int liveRefs(ProtocolClient client) {
        return ok(client.request("session_info", "s", Map.of())).path("live_refs").asInt();
    }

    @Test
    @Tag("required")
    @Requirement("RESP-1")
    void aResponsePastMaxResponseBytesIsRefusedCountingItsAttachments() {
        try (ProtocolClient client = capped()) {
            refused(eval(client, "'x' * 5000"), "max_response_bytes", MAX_BYTES);
            // 4,500 bytes of binary values: each fits a frame, together (or inline as base64) they do not fit the cap
            refused(eval(client, "[bytes(1500)] * 3"), "max_response_bytes", MAX_BYTES);
            assertThat(sent(client, eval(client, "[bytes(1200)] * 2")).size()).isEqualTo(2);
            assertThat(sent(client, eval(client, "'x' * 3000")).asText()).hasSize(3000);
        }
    }

    @Test
    @Tag("required")
    @Requirement("RESP-2")
    void aResponseOfMoreThanMaxResponseElementsJsonValuesIsRefusedAndOneOfExactlyThatManyIsSent() {
        try (ProtocolClient client = capped()) {
            // {"id", "ok", "result": [...]}: the object and its three members' values are four of the hundred
            assertThat(sent(client, eval(client, "[0] * 96")).size()).isEqualTo(96);
            refused(eval(client, "[0] * 97"), "max_response_elements", MAX_VALUES);
            // a tuple is the JSON it travels as: an object, its __type__, __schema__ and elements, and two ints
            assertThat(sent(client, eval(client, "[(1, 2)] * 16")).size()).isEqualTo(16);
            refused(eval(client, "[(1, 2)] * 17"), "max_response_elements", MAX_VALUES);
        }
    }

    @Test
    @Tag("required")
    @Requirement("RESP-3")
    void aRefusedResultsRefsAreDroppedWholeBatchesAndCallbackRequestsAreRefusedAndTheWorkerGoesOn() {
        try (ProtocolClient client = capped()) {
            refused(eval(client, "[object() for _ in range(12)]"), "max_response_elements", MAX_VALUES); // nine values a ref
            assertThat(liveRefs(client)).as("refs of a result that was never sent").isZero();
            if (worker.capabilities().contains("batch")) {
                refused(client.request("batch", "s", fields("calls", List.of(
                        fields("op", "call", "function", "object", "want", "ref"),
                        fields("op", "call", "function", "eval", "args", List.of("[0] * 90"))))), "max_response_elements", MAX_VALUES);
                assertThat(liveRefs(client)).isZero();
            }
            if (worker.capabilities().contains("callbacks")) { // the next frame answers the call: no callback request came first
                refused(client.request("call", "s", fields("function", "sorted", "args", List.of(List.of(new int[200])),
                        "kwargs", Map.of("key", fields("__type__", "callback", "__schema__", 1, "ref_id", "cb", "arity", 1)))),
                        "max_response_elements", MAX_VALUES);
            }
            assertThat(sent(client, eval(client, "[1, 2]")).size()).isEqualTo(2);
        }
    }
}

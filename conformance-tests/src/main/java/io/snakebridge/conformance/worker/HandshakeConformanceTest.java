package io.snakebridge.conformance.worker;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.snakebridge.conformance.ProtocolClient;
import io.snakebridge.conformance.Requirement;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

class HandshakeConformanceTest extends WorkerConformance {

    @Test
    @Tag("required")
    @Requirement("HS-1")
    void anyFirstRequestButAHandshakeIsRefused() {
        try (ProtocolClient fresh = ProtocolClient.start()) {
            error(fresh.request("ping", Map.of()), "protocol");
            error(fresh.request("call", s1, fields("function", "len", "args", java.util.List.of("x"))), "protocol");
            ok(fresh.request("handshake", Map.of("protocol_version", 1, "min_supported_version", 1)));
            ok(fresh.request("ping", Map.of()));
        }
    }

    @Test
    @Tag("required")
    @Requirement("HS-2")
    void versionsAreNegotiatedAndAnImpossibleRangeIsUnsupportedVersion() {
        try (ProtocolClient fresh = ProtocolClient.start()) {
            JsonNode error = error(fresh.request("handshake", Map.of("protocol_version", 9, "min_supported_version", 9)),
                    "unsupported_version");
            assertThat(error.path("details").path("protocol_version").isInt()).isTrue();
            JsonNode agreed = ok(fresh.request("handshake", Map.of("protocol_version", 5, "min_supported_version", 1)));
            assertThat(agreed.path("protocol_version").asInt()).isEqualTo(1);
        }
    }

    @Test
    @Tag("required")
    @Requirement("HS-3")
    void theHandshakeDescribesTheWorker() {
        JsonNode hello = worker.hello();
        assertThat(hello.path("protocol_version").asInt()).isEqualTo(1);
        assertThat(hello.path("min_supported_version").isInt()).isTrue();
        assertThat(hello.path("worker_id").asText()).isNotEmpty();
        assertThat(hello.path("pid").asLong()).isEqualTo(worker.pid());
        assertThat(hello.path("python_version").asText()).matches("\\d+\\.\\d+\\.\\d+");
        assertThat(hello.path("implementation").asText()).isNotEmpty();
        assertThat(hello.path("capabilities").isArray()).isTrue();
        for (String limit : new String[] {"max_refs", "ref_limit_policy", "ref_ttl_seconds"}) {
            assertThat(hello.path("defaults").has(limit)).as("defaults.%s", limit).isTrue();
        }
        for (String limit : new String[] {"max_frame_bytes", "max_nesting_depth", "max_int_digits", "max_response_bytes",
                "max_response_elements"}) {
            assertThat(hello.path("limits").path(limit).isIntegralNumber()).as("limits.%s", limit).isTrue();
        }
    }

    @Test
    @Tag("required")
    @Requirement("HS-4")
    void capabilitiesAreNamedByStrings() {
        worker.hello().path("capabilities").forEach(c -> assertThat(c.isTextual()).isTrue());
        assertThat(worker.capabilities()).contains("refs");
    }

    /** Runs against a worker without callbacks (the suite's own check: broken worker undeclared_callbacks_accepted). */
    @Test
    @Tag("required")
    @Requirement("HS-4")
    void aCallbackValueIsRejectedByAWorkerThatDidNotDeclareCallbacks() {
        Assumptions.assumeFalse(worker.capabilities().contains("callbacks"), "the worker declares callbacks");
        JsonNode response = call(s1, "callable", Map.of("__type__", "callback", "__schema__", 1, "ref_id", "x", "arity", 1));
        assertThat(response.path("ok").asBoolean(true)).as("a callback value sent to a worker without callbacks: %s", response).isFalse();
        assertThat(response.path("error").path("message").asText()).as("message of %s", response).isNotBlank();
        ok(worker.request("ping", Map.of()));
    }

    @Test
    @Tag("required")
    @Requirement("HS-5")
    void theWorkerAdoptsTheClientsLimitsAndRefusesOnesOutOfRange() {
        try (ProtocolClient fresh = ProtocolClient.start()) {
            error(handshakeWithLimits(fresh, fields("max_frame_bytes", 10)), "invalid_argument");
            error(handshakeWithLimits(fresh, fields("max_open_files", 10)), "invalid_argument");
            error(handshakeWithLimits(fresh, fields("max_response_elements", 10)), "invalid_argument");
            JsonNode hello = ok(handshakeWithLimits(fresh, fields("max_frame_bytes", 4096, "max_nesting_depth", 4,
                    "max_string_length", 100, "max_response_bytes", 5_000_000_000L, "max_response_elements", 100_000)));
            assertThat(hello.path("limits").path("max_response_bytes").asLong()).isEqualTo(5_000_000_000L);
            assertThat(hello.path("limits").path("max_response_elements").asInt()).isEqualTo(100_000);
            assertThat(hello.path("limits").path("max_frame_bytes").asInt()).isEqualTo(4096);
            assertThat(hello.path("limits").path("max_nesting_depth").asInt()).isEqualTo(4);
            assertThat(hello.path("limits").path("max_string_length").asInt()).isEqualTo(100);
            JsonNode tooBig = error(fresh.request("call", s1, fields("function", "eval", "args", java.util.List.of("list(range(3000))"))),
                    "invalid_value");
            assertThat(tooBig.path("message").asText()).contains("max_frame_bytes");
            error(fresh.request("call", s1, fields("function", "eval", "args", java.util.List.of("[[[[[1]]]]]"))), "invalid_value");
            ok(fresh.request("ping", Map.of()));
        }
    }
}

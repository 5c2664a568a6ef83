package io.snakebridge.conformance.worker;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.snakebridge.conformance.Requirement;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

class ErrorConformanceTest extends WorkerConformance {
    private static final Set<String> CODES = Set.of("python_exception", "ref_not_found", "session_mismatch", "invalid_ref",
            "ref_limit", "invalid_value", "invalid_argument", "protocol", "frame_too_large", "unsupported_version", "cancelled");

    @Test
    @Tag("required")
    @Requirement("ERR-1")
    void everyErrorCarriesACodeFromTheTableAndAMessage() {
        List<JsonNode> errors = List.of(
                call(S1, "operator.truediv", 1, 0),
                getX(S1, Map.of("__type__", "ref", "__schema__", 1, "id", "0".repeat(32), "session_id", S1)),
                getX(S1, Map.of("__type__", "ref", "__schema__", 1)),
                call(S1, "repr", Map.of("__type__", "nope", "__schema__", 1)),
                call(S1, "a..b"),
                worker.request("open_session", S1, Map.of("limits", Map.of("max_refs", -1))),
                worker.request("fly", Map.of()));
        for (JsonNode response : errors) {
            assertThat(response.path("ok").asBoolean(true)).isFalse();
            assertThat(response.path("error").path("code").asText()).as("code of %s", response).isIn(CODES);
            assertThat(response.path("error").path("message").asText()).as("message of %s", response).isNotBlank();
        }
    }
}

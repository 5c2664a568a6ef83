package io.snakebridge.conformance.worker;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.snakebridge.conformance.Requirement;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

class BatchConformanceTest extends WorkerConformance {

    private static Map<String, Object> promise(int index) {
        return fields("__type__", "promise", "__schema__", 1, "index", index);
    }

    private JsonNode batch(Object... calls) {
        return worker.request("batch", s1, fields("calls", List.of(calls)));
    }

    @Test
    @Tag("optional")
    @Requirement("BATCH-1")
    void aBatchAnswersEveryCallInOrderAndAFailureDoesNotStopTheRest() {
        assumeCapability("batch");
        JsonNode results = ok(batch(
                fields("op", "call", "function", "len", "args", List.of(List.of(1, 2))),
                fields("op", "call", "function", "int", "args", List.of("x")),
                fields("op", "ping"),
                fields("op", "get_attr", "name", "math.pi")));
        JsonNode values = results.path("values");
        assertThat(values.size()).isEqualTo(4);
        assertThat(values.get(0).toString()).isEqualTo("2");
        assertThat(results.path("errors").path("1").path("type").asText()).isEqualTo("ValueError");
        assertThat(results.path("errors").path("2").path("code").asText()).isEqualTo("protocol");
        assertThat(values.get(1).isNull()).isTrue();
        assertThat(values.get(3).asDouble()).isEqualTo(Math.PI);
        assertThat(results.path("errors").size()).isEqualTo(2);
        error(worker.request("batch", s1, fields("calls", "nope")), "protocol");
    }

    @Test
    @Tag("optional")
    @Requirement("BATCH-2")
    void promisesPassEarlierResultsAndAFailedOneFailsItsDependents() {
        assumeCapability("batch");
        JsonNode results = ok(batch(
                fields("op", "call", "function", "re.compile", "args", List.of("a+b"), "want", "none"),
                fields("op", "call_method", "object", promise(0), "method", "fullmatch", "args", List.of("aab"), "want", "none"),
                fields("op", "call_method", "object", promise(1), "method", "group"),
                fields("op", "call", "function", "int", "args", List.of("x")),
                fields("op", "call", "function", "abs", "args", List.of(promise(3))),
                fields("op", "call", "function", "abs", "args", List.of(promise(7)))));
        assertThat(results.path("values").get(2).asText()).isEqualTo("aab");
        JsonNode dependent = results.path("errors").path("4");
        assertThat(dependent.path("code").asText()).isEqualTo("dependency_failed");
        assertThat(dependent.path("details").path("index").asInt()).isEqualTo(3);
        assertThat(results.path("errors").path("5").path("code").asText()).isEqualTo("invalid_value");
        error(call(s1, "abs", promise(0)), "invalid_value");
    }

    @Test
    @Tag("optional")
    @Requirement("BATCH-3")
    void wantNoneMakesNoRef() {
        assumeCapability("batch");
        JsonNode results = ok(batch(
                fields("op", "call", "function", "object", "want", "none"),
                fields("op", "call", "function", "object", "want", "ref")));
        assertThat(results.path("values").get(0).isNull()).isTrue();
        assertThat(results.path("values").get(1).path("__type__").asText()).isEqualTo("ref");
        assertThat(ok(worker.request("session_info", s1, Map.of())).path("live_refs").asInt()).isEqualTo(1);
    }
}

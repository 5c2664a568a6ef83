package io.snakebridge.conformance.worker;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.snakebridge.conformance.Requirement;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

class ErrorConformanceTest extends WorkerConformance {
    /** PROTOCOL.md §8: the codes a worker may send (callback_error is the client's). */
    private static final Set<String> CODES = Set.of("python_exception", "ref_not_found", "session_mismatch", "invalid_ref",
            "ref_limit", "invalid_value", "invalid_argument", "protocol", "frame_too_large", "unsupported_version",
            "policy_denied", "dependency_failed", "cancelled");

    @Test
    @Tag("required")
    @Requirement("ERR-1")
    void everyErrorCarriesTheCodeOfItsCauseFromTheTableAndAMessage() {
        Map<String, JsonNode> errors = new LinkedHashMap<>();
        errors.put("python_exception", call(s1, "operator.truediv", 1, 0));
        errors.put("ref_not_found", getX(s1, Map.of("__type__", "ref", "__schema__", 1, "id", "0".repeat(32), "session_id", s1)));
        errors.put("invalid_ref", getX(s1, Map.of("__type__", "ref", "__schema__", 1)));
        errors.put("invalid_value", call(s1, "repr", Map.of("__type__", "nope", "__schema__", 1)));
        errors.put("invalid_argument", call(s1, "a..b"));
        errors.put("protocol", worker.request("fly", Map.of()));
        if (worker.capabilities().contains("module_policy")) {
            ok(worker.request("open_session", s2, Map.of("limits", Map.of(), "policy", Map.of("allow_modules", List.of("math")))));
            errors.put("policy_denied", call(s2, "json.dumps", 1));
        }
        errors.forEach((code, response) -> {
            assertThat(CODES).contains(code);
            assertThat(error(response, code).path("message").asText()).as("message of %s", response).isNotBlank();
        });
        if (worker.capabilities().contains("batch")) { // a batch's per-call errors are error objects too
            JsonNode failed = ok(worker.request("batch", s1, fields("calls", List.of(
                    fields("op", "call", "function", "int", "args", List.of("x")),
                    fields("op", "call", "function", "abs", "args", List.of(Map.of("__type__", "promise", "__schema__", 1, "index", 0)))))));
            assertThat(failed.path("errors").path("0").path("code").asText()).isEqualTo("python_exception");
            assertThat(failed.path("errors").path("1").path("code").asText()).isEqualTo("dependency_failed");
            assertThat(failed.path("errors").path("1").path("message").asText()).isNotBlank();
        }
        JsonNode badLimit = error(worker.request("open_session", s1, Map.of("limits", Map.of("max_refs", -1))), "invalid_argument");
        assertThat(badLimit.path("message").asText()).contains("max_refs");
    }

    @Test
    @Tag("required")
    @Requirement("ERR-2")
    void refErrorsCarryTheirIdentifiersInDetails() {
        JsonNode ref = newRef(s1, 1);
        String id = ref.path("id").asText();
        ok(worker.request("release_ref", s1, fields("ids", List.of(id))));
        JsonNode notFound = error(getX(s1, ref), "ref_not_found").path("details");
        assertThat(notFound.path("ref_id").asText()).isEqualTo(id);
        assertThat(notFound.path("session_id").asText()).isEqualTo(s1);
        assertThat(notFound.path("reason").asText()).isNotEmpty();
        JsonNode theirs = newRef(s2, 2);
        JsonNode mismatch = error(worker.request("release_ref", s1, fields("ids", List.of(theirs.path("id").asText()))),
                "session_mismatch").path("details");
        assertThat(mismatch.path("ref_id").asText()).isEqualTo(theirs.path("id").asText());
        assertThat(mismatch.path("expected_session_id").asText()).isEqualTo(s1);
        assertThat(mismatch.path("actual_session_id").asText()).isEqualTo(s2);
        ok(worker.request("open_session", s1, Map.of("limits", Map.of("max_refs", 1))));
        newRef(s1, 3);
        JsonNode limit = error(worker.request("call", s1, fields("function", "object")), "ref_limit").path("details");
        assertThat(limit.path("limit").asInt()).isEqualTo(1);
        assertThat(limit.path("session_id").asText()).isEqualTo(s1);
    }

    @Test
    @Tag("required")
    @Requirement("ERR-3")
    void aPythonExceptionCarriesItsPlainAttributesItsGroupMembersAndWhereASyntaxErrorIs() {
        JsonNode missing = error(call(s1, "open", "/nonexistent-snakebridge-dir/file"), "python_exception");
        assertThat(missing.path("attributes").path("errno").isInt()).isTrue();
        assertThat(missing.path("attributes").path("filename").asText()).isEqualTo("/nonexistent-snakebridge-dir/file");
        assertThat(missing.path("attributes").path("args").isArray()).isTrue();

        JsonNode syntax = error(call(s1, "compile", "x = (1,\n", "bad_module.py", "exec"), "python_exception");
        assertThat(syntax.path("type").asText()).isEqualTo("SyntaxError");
        assertThat(syntax.path("attributes").path("lineno").asInt()).isEqualTo(1);
        JsonNode where = syntax.path("traceback").get(syntax.path("traceback").size() - 1);
        assertThat(where.path("file").asText()).isEqualTo("bad_module.py");
        assertThat(where.path("line").asInt()).isEqualTo(1);
        assertThat(where.path("text").asText()).isEqualTo("x = (1,");

        boolean groups = ok(call(s1, "eval", "'ExceptionGroup' in dir(__import__('builtins'))")).asBoolean();
        org.junit.jupiter.api.Assumptions.assumeTrue(groups, "the worker's Python has no ExceptionGroup (before 3.11)");
        JsonNode group = error(call(s1, "exec", "raise ExceptionGroup('two', [ValueError('a'), KeyError('k')])"),
                "python_exception");
        assertThat(group.path("exceptions")).hasSize(2);
        assertThat(group.path("exceptions").get(0).path("type").asText()).isEqualTo("ValueError");
        assertThat(group.path("exceptions").get(1).path("attributes").path("args").get(0).asText()).isEqualTo("k");
    }
}

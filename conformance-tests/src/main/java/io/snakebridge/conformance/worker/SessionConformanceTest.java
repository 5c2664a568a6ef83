package io.snakebridge.conformance.worker;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.snakebridge.conformance.Requirement;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

class SessionConformanceTest extends WorkerConformance {

    @Test
    @Tag("required")
    @Requirement("SES-1")
    void aSessionAppearsWithItsFirstRefAndAskingAboutOneCreatesNothing() {
        JsonNode info = ok(worker.request("session_info", s1, Map.of()));
        assertThat(info.path("live_refs").asInt()).isZero();
        assertThat(info.path("limits").path("max_refs").asInt()).isEqualTo(worker.hello().path("defaults").path("max_refs").asInt());
        String asked = s2 + "-asked";
        ok(worker.request("session_info", asked, Map.of()));
        ok(worker.request("reset_session", s2, Map.of("new_session_id", asked))); // asking created nothing: the id is still free
        newRef(s1, 1);
        assertThat(liveRefs(s1)).isEqualTo(1);
    }

    @Test
    @Tag("required")
    @Requirement("SES-2")
    void openSessionSetsLimitsAndRejectsBadOrUnknownOnes() {
        JsonNode limits = ok(worker.request("open_session", s1, Map.of("limits", Map.of("max_refs", 3, "ref_limit_policy", "evict_lru"))));
        assertThat(limits.path("max_refs").asInt()).isEqualTo(3);
        assertThat(limits.path("ref_limit_policy").asText()).isEqualTo("evict_lru");
        assertThat(limits.path("ref_ttl_seconds").asDouble()).isEqualTo(worker.hello().path("defaults").path("ref_ttl_seconds").asDouble());
        error(worker.request("open_session", s1, Map.of("limits", Map.of("max_refs", 0))), "invalid_argument");
        error(worker.request("open_session", s1, Map.of("limits", Map.of("ref_limit_policy", "lru"))), "invalid_argument");
        error(worker.request("open_session", s1, Map.of("limits", Map.of("ref_ttl_seconds", -1))), "invalid_argument");
        error(worker.request("open_session", s1, Map.of("limits", Map.of("max_ref", 5))), "invalid_argument");
        assertThat(ok(worker.request("session_info", s1, Map.of())).path("limits").path("max_refs").asInt()).isEqualTo(3);
    }

    @Test
    @Tag("required")
    @Requirement("SES-3")
    void releaseSessionMatchesTheSessionExactlyNeverByPrefix() {
        JsonNode mine = newRef(s1, 1);
        newRef(s1, 2);
        JsonNode prefixed = newRef(s1 + ":b", 3);
        JsonNode longer = newRef(s1 + "b", 4);
        assertThat(ok(worker.request("release_session", s1, Map.of())).asInt()).isEqualTo(2);
        assertThat(ok(getX(s1 + ":b", prefixed)).asInt()).isEqualTo(3);
        assertThat(ok(getX(s1 + "b", longer)).asInt()).isEqualTo(4);
        JsonNode gone = error(getX(s1, mine), "ref_not_found");
        assertThat(gone.path("details").path("reason").asText()).isEqualTo("session_released");
    }

    @Test
    @Tag("required")
    @Requirement("SES-4")
    void sessionInfoCountsOnlyThisSessionsRefsAndTheWorkersTotal() {
        int before = ok(worker.request("session_info", s1, Map.of())).path("worker_live_refs").asInt();
        newRef(s1, 1);
        newRef(s2, 2);
        newRef(s2, 3);
        JsonNode info = ok(worker.request("session_info", s1, Map.of()));
        assertThat(info.path("live_refs").asInt()).isEqualTo(1);
        assertThat(info.path("worker_live_refs").asInt()).isEqualTo(before + 3);
        assertThat(info.toString()).doesNotContain(s2);
    }

    @Test
    @Tag("optional")
    @Requirement("POL-1")
    void aModulePolicyRefusesNamesBeforeImportingAndAcrossModulesAndDunders() {
        assumeCapability("module_policy");
        ok(worker.request("open_session", s1, Map.of("limits", Map.of(),
                "policy", Map.of("allow_modules", List.of("json", "math"), "deny_modules", List.of("json.decoder")))));
        assertThat(ok(call(s1, "math.sqrt", 4.0)).asDouble()).isEqualTo(2.0);
        assertThat(error(call(s1, "tabnanny.check", "x"), "policy_denied").path("details").path("module").asText()).isEqualTo("tabnanny");
        error(call(s1, "len", "x"), "policy_denied");
        error(call(s1, "json.codecs.lookup", "utf-8"), "policy_denied");
        error(call(s1, "json.decoder.JSONDecoder"), "policy_denied");
        assertThat(ok(worker.request("call", s2, fields("function", "eval", "args", List.of("'tabnanny' in __import__('sys').modules"))))
                .asBoolean()).as("refused before import").isFalse();
        ok(worker.request("reset_session", s1, Map.of("new_session_id", s1 + "-after")));
        error(call(s1 + "-after", "tabnanny.check", "x"), "policy_denied");
        error(worker.request("open_session", s1, Map.of("limits", Map.of(), "policy", Map.of("allow_modules", List.of("os; x")))),
                "invalid_argument");
        error(worker.request("open_session", s1 + "-after", Map.of("limits", Map.of(), "policy", Map.of("allow_modules", List.of()))),
                "invalid_argument"); // a policy, once set, cannot be relaxed
    }

    private void openWithPolicy(String session, List<String> allow, List<String> deny) {
        ok(worker.request("open_session", session, Map.of("limits", Map.of(),
                "policy", Map.of("allow_modules", allow, "deny_modules", deny))));
    }

    private JsonNode refTo(String session, String name) {
        return ok(worker.request("get_attr", session, fields("name", name, "want", "ref")));
    }

    @Test
    @Tag("optional")
    @Requirement("POL-2")
    void aModulePolicyRefusesPrivateNamesDundersAndInterpreterInternals() {
        assumeCapability("module_policy");
        openWithPolicy(s1, List.of("json", "ast"), List.of());
        error(worker.request("get_attr", s1, fields("name", "json.dumps.__globals__")), "policy_denied");
        error(worker.request("get_attr", s1, fields("name", "json._default_encoder")), "policy_denied");
        JsonNode tree = ok(callWith(s1, "ast.parse", List.of("1"), Map.of(), "ref"));
        JsonNode walk = ok(callWith(s1, "ast.walk", List.of(tree), Map.of(), "ref"));
        for (String internal : List.of("gi_frame", "gi_frame.f_builtins", "gi_code")) {
            error(worker.request("get_attr", s1, fields("object", walk, "name", internal)), "policy_denied");
        }
        JsonNode dumps = refTo(s1, "json.dumps");
        assertThat(ok(worker.request("call_method", s1, fields("object", dumps, "method", "__call__", "args", List.of(List.of(1)))))
                .asText()).as("__call__ calls an object held by a ref").isEqualTo("[1]");
    }

    @Test
    @Tag("optional")
    @Requirement("POL-3")
    void aModulePolicyJudgesWhatARequestReachesByTheModuleThatDefinesIt() {
        assumeCapability("module_policy");
        openWithPolicy(s1, List.of("math", "statistics", "operator"), List.of());
        assertThat(error(call(s1, "statistics.reduce", List.of(1, 2)), "policy_denied").path("details").path("module").asText())
                .isEqualTo("functools");
        error(worker.request("get_attr", s1, fields("name", "statistics.Counter")), "policy_denied");
        assertThat(ok(call(s1, "statistics.sqrt", 9.0)).asDouble()).as("math.sqrt, re-exported: allowed").isEqualTo(3.0);
        JsonNode getter = ok(callWith(s1, "operator.attrgetter", List.of("reduce"), Map.of(), "ref"));
        error(worker.request("call_method", s1, fields("object", getter, "method", "__call__", "args",
                List.of(refTo(s1, "statistics")))), "policy_denied"); // a result outside the policy makes no ref
        assertThat(liveRefs(s1)).isEqualTo(2);
        openWithPolicy(s2, List.of(), List.of("os", "subprocess", "builtins"));
        error(call(s2, "posix.getcwd"), "policy_denied");
        error(call(s2, "io.open", "/dev/null"), "policy_denied");
        error(worker.request("get_attr", s2, fields("name", "asyncio.create_subprocess_shell")), "policy_denied");
    }

    @Test
    @Tag("optional")
    @Requirement("POL-3")
    void aModulePolicyJudgesTheClassWhoseCodeAnAttributeStepOrStreamNextRuns() {
        assumeCapability("module_policy");
        openWithPolicy(s1, List.of("tempfile", "statistics"), List.of());
        JsonNode file = ok(callWith(s1, "tempfile.TemporaryFile", List.of(), Map.of(), "ref")); // an io.BufferedRandom
        error(worker.request("get_attr", s1, fields("object", file, "name", "raw")), "policy_denied");
        error(worker.request("stream_next", s1, fields("object", file, "max_items", 1)), "policy_denied");
        JsonNode values = ok(callWith(s1, "statistics.quantiles", List.of(List.of(1, 2, 3, 4, 5)), Map.of(), "ref"));
        JsonNode iterator = ok(worker.request("apply", s1, fields("object", values, "action", "iter")));
        assertThat(ok(worker.request("stream_next", s1, fields("object", iterator, "max_items", 10))).path("items"))
                .as("a list's iterator is the interpreter's own: it streams under any policy").hasSize(3);
    }

    @Test
    @Tag("optional")
    @Requirement("POL-4")
    void aModulePolicyKeepsModulesAndClassesUnchanged() {
        assumeCapability("module_policy");
        openWithPolicy(s1, List.of("statistics"), List.of());
        error(worker.request("set_attr", s1, fields("name", "statistics.median", "value", 0)), "policy_denied");
        error(worker.request("set_attr", s1, fields("object", refTo(s1, "statistics"), "name", "mean", "value", 0)), "policy_denied");
        error(worker.request("set_attr", s1, fields("name", "statistics.NormalDist.cdf", "value", 0)), "policy_denied");
        assertThat(ok(call(s1, "statistics.median", List.of(1, 2, 3))).asInt()).isEqualTo(2);
        openWithPolicy(s2, List.of("json"), List.of());
        JsonNode moduleDict = ok(worker.request("get_attr", s2, fields("name", "json.decoder.BACKSLASH", "want", "ref")));
        error(worker.request("apply", s2, fields("object", moduleDict, "action", "setitem", "args", List.of("n", "x"))), "policy_denied");
        error(worker.request("call_method", s2, fields("object", moduleDict, "method", "clear")), "policy_denied");
        assertThat(ok(worker.request("call_method", s2, fields("object", moduleDict, "method", "get", "args", List.of("n")))).asText())
                .isEqualTo("\n");
    }

    @Test
    @Tag("required")
    @Requirement("SES-6")
    void resetSessionReleasesEverythingAndOpensANewSessionWithTheSameLimits() {
        ok(worker.request("open_session", s1, Map.of("limits", Map.of("max_refs", 7))));
        JsonNode ref = newRef(s1, 1);
        newRef(s1, 2);
        assertThat(ok(worker.request("reset_session", s1, Map.of("new_session_id", s1 + "-next"))).asInt()).isEqualTo(2);
        assertThat(error(getX(s1, ref), "ref_not_found").path("details").path("reason").asText()).isEqualTo("session_released");
        JsonNode info = ok(worker.request("session_info", s1 + "-next", Map.of()));
        assertThat(info.path("live_refs").asInt()).isZero();
        assertThat(info.path("limits").path("max_refs").asInt()).isEqualTo(7);
        newRef(s2, 1);
        error(worker.request("reset_session", s1 + "-next", Map.of("new_session_id", s2)), "invalid_argument");
        error(worker.request("reset_session", s1 + "-next", Map.of()), "protocol");
        assertThat(ok(call(s1 + "-next", "len", List.of(1))).asInt()).isEqualTo(1);
    }
}

package io.snakebridge.conformance.worker;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.snakebridge.conformance.Requirement;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

class RefConformanceTest extends WorkerConformance {

    private static ObjectNode forged(JsonNode ref) {
        return ((ObjectNode) ref).deepCopy();
    }

    @Test
    @Tag("required")
    @Requirement("REF-1")
    void aRefCarriesItsIdentityAndAnUnguessableId() {
        JsonNode ref = ok(call(s1, "re.compile", "a"));
        assertThat(ref.path("__schema__").asInt()).isEqualTo(1);
        assertThat(ref.path("id").asText()).matches("[0-9a-f]{32}");
        assertThat(ref.path("session_id").asText()).isEqualTo(s1);
        assertThat(ref.path("python_module").asText()).isEqualTo("re");
        assertThat(ref.path("library").asText()).isEqualTo("re");
        assertThat(ref.path("type_name").asText()).isEqualTo("Pattern");
        assertThat(ref.path("worker_id").asText()).isEqualTo(worker.hello().path("worker_id").asText());
        java.util.Set<String> ids = new java.util.HashSet<>();
        for (int i = 0; i < 50; i++) {
            ids.add(newRef(s1, i).path("id").asText());
        }
        assertThat(ids).hasSize(50);
    }

    @Test
    @Tag("required")
    @Requirement("REF-2")
    void aRefNeverResolvesInAnotherSessionAndStaysIntact() {
        JsonNode secret = newRef(s1, 42);
        JsonNode mismatch = error(getX(s2, secret), "session_mismatch");
        assertThat(mismatch.path("details").path("expected_session_id").asText()).isEqualTo(s2);
        assertThat(mismatch.path("details").path("actual_session_id").asText()).isEqualTo(s1);
        assertThat(mismatch.path("details").path("ref_id").asText()).isEqualTo(secret.path("id").asText());
        ObjectNode relabelled = forged(secret).put("session_id", s2); // a forged claim to be s2's ref
        error(getX(s2, relabelled), "session_mismatch");
        ObjectNode unlabelled = forged(secret);
        unlabelled.remove("session_id");
        error(getX(s2, unlabelled), "session_mismatch");
        assertThat(ok(getX(s1, secret)).asInt()).isEqualTo(42);
    }

    @Test
    @Tag("required")
    @Requirement("REF-3")
    void malformedRefsAreInvalidRefWithAReason() {
        JsonNode missing = error(getX(s1, Map.of("__type__", "ref", "__schema__", 1, "session_id", s1)), "invalid_ref");
        assertThat(missing.path("details").path("reason").asText()).isEqualTo("missing_id");
        JsonNode notARef = error(worker.request("get_attr", s1, fields("object", List.of(1), "name", "x")), "invalid_ref");
        assertThat(notARef.path("details").path("reason").asText()).isEqualTo("malformed");
    }

    @Test
    @Tag("required")
    @Requirement("REF-4")
    void aGoneRefIsRefNotFoundSayingWhy() {
        JsonNode ref = newRef(s1, 1);
        ok(worker.request("release_ref", s1, fields("ids", List.of(ref.path("id").asText()))));
        JsonNode released = error(getX(s1, ref), "ref_not_found");
        assertThat(released.path("details").path("reason").asText()).isEqualTo("released");
        assertThat(released.path("details").path("ref_id").asText()).isEqualTo(ref.path("id").asText());
        assertThat(released.path("details").path("session_id").asText()).isEqualTo(s1);
        ObjectNode neverIssued = forged(ref).put("id", "0123456789abcdef0123456789abcdef");
        assertThat(error(getX(s1, neverIssued), "ref_not_found").path("details").path("reason").asText()).isEqualTo("unknown");
    }

    @Test
    @Tag("required")
    @Requirement("REF-5")
    void maxRefsIsPerSessionRejectingByDefaultOrEvictingTheLeastRecentlyUsed() {
        ok(worker.request("open_session", s1, Map.of("limits", Map.of("max_refs", 2))));
        newRef(s1, 1);
        newRef(s1, 2);
        JsonNode limit = error(call(s1, "types.SimpleNamespace"), "ref_limit");
        assertThat(limit.path("details").path("limit").asInt()).isEqualTo(2);
        assertThat(limit.path("details").path("setting").asText()).isEqualTo("max_refs");
        assertThat(liveRefs(s1)).isEqualTo(2);
        newRef(s2, 3); // another session has its own budget
        assertThat(ok(call(s1, "len", "ok")).asInt()).isEqualTo(2);

        String lru = s1 + "-lru";
        ok(worker.request("open_session", lru, Map.of("limits", Map.of("max_refs", 2, "ref_limit_policy", "evict_lru"))));
        JsonNode first = newRef(lru, 1);
        JsonNode second = newRef(lru, 2);
        ok(getX(lru, first)); // first is now the most recently used
        newRef(lru, 3);
        assertThat(error(getX(lru, second), "ref_not_found").path("details").path("reason").asText()).isEqualTo("evicted");
        assertThat(ok(getX(lru, first)).asInt()).isEqualTo(1);
    }

    @Test
    @Tag("optional")
    @Requirement("REF-6")
    void anIdleRefExpiresAfterItsTtlAndEveryUseRenewsIt() throws Exception {
        assumeCapability("ref_ttl");
        ok(worker.request("open_session", s1, Map.of("limits", Map.of("ref_ttl_seconds", 0.6))));
        JsonNode used = newRef(s1, 1);
        JsonNode idle = newRef(s1, 2);
        for (int i = 0; i < 6; i++) {
            Thread.sleep(200);
            ok(call(s1, "getattr", used, "x")); // use as an argument renews too
        }
        assertThat(ok(getX(s1, used)).asInt()).isEqualTo(1);
        assertThat(error(getX(s1, idle), "ref_not_found").path("details").path("reason").asText()).isEqualTo("expired");
    }

    @Test
    @Tag("optional")
    @Requirement("REF-7")
    void aSessionWithTenThousandRefsAnswersAsFastAsOneWithAHundred() {
        double small = medianCreateReleaseNanos(s1, 100);
        double large = medianCreateReleaseNanos(s2, 10_000);
        assertThat(large / small).as("median create+release with 10,000 live refs / with 100").isLessThan(3.0);
    }

    private double medianCreateReleaseNanos(String session, int live) {
        ok(worker.request("open_session", session, Map.of("limits", Map.of("max_refs", live + 10))));
        ok(worker.request("call", session, fields("function", "eval", "args", List.of("[object() for _ in range(" + live + ")]"))));
        long[] samples = new long[301];
        for (int i = 0; i < samples.length; i++) {
            long start = System.nanoTime();
            JsonNode ref = ok(call(session, "object"));
            ok(worker.request("release_ref", session, fields("ids", List.of(ref.path("id").asText()))));
            samples[i] = System.nanoTime() - start;
        }
        assertThat(liveRefs(session)).isEqualTo(live);
        Arrays.sort(samples);
        return samples[samples.length / 2];
    }

    @Test
    @Tag("required")
    @Requirement("REF-8")
    void aRefFromAnEarlierWorkerIsRefNotFoundWorkerRestarted() {
        JsonNode ref = newRef(s1, 1);
        ObjectNode stale = forged(ref).put("worker_id", "an-earlier-worker");
        assertThat(error(getX(s1, stale), "ref_not_found").path("details").path("reason").asText()).isEqualTo("worker_restarted");
    }
}

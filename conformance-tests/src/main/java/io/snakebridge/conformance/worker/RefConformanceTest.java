package io.snakebridge.conformance.worker;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.snakebridge.conformance.Requirement;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.function.LongSupplier;
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
    }

    /**
     * A counter or a clock passes a format-and-distinctness check; it fails here, on the version 4
     * and variant bits of a random UUID or on a random bit stuck at (or leaning to) 0 or 1. A fair
     * bit is set in 500 +- 15.8 of 1,000 ids; a bound of 6 standard deviations on each of the 122
     * random bits fails a fair source less than once in a million runs.
     */
    @Test
    @Tag("required")
    @Requirement("REF-1")
    void refIdsAreRandomUuidsWhoseRandomBitsAreEachFair() {
        int count = 1000;
        JsonNode refs = ok(call(s1, "eval", "[object() for _ in range(" + count + ")]"));
        int[] ones = new int[128];
        Set<String> ids = new HashSet<>();
        for (JsonNode ref : refs) {
            String id = ref.path("id").asText();
            assertThat(id).matches("[0-9a-f]{32}");
            UUID uuid = new UUID(Long.parseUnsignedLong(id.substring(0, 16), 16), Long.parseUnsignedLong(id.substring(16), 16));
            assertThat(uuid.version()).as("UUID version of id %s", id).isEqualTo(4);
            assertThat(uuid.variant()).as("UUID variant of id %s", id).isEqualTo(2);
            for (int bit = 0; bit < 128; bit++) { // bit 0 is the most significant
                long word = bit < 64 ? uuid.getMostSignificantBits() : uuid.getLeastSignificantBits();
                ones[bit] += (int) (word >>> (63 - bit % 64)) & 1;
            }
            ids.add(id);
        }
        assertThat(ids).hasSize(count);
        Map<Integer, Integer> leaning = new TreeMap<>();
        for (int bit = 0; bit < 128; bit++) {
            boolean fixed = (bit >= 48 && bit < 52) || bit == 64 || bit == 65; // version and variant
            if (!fixed && Math.abs(ones[bit] - count / 2) > 95) {
                leaning.put(bit, ones[bit]);
            }
        }
        assertThat(leaning).as("random bits (0 = most significant) set in an unfair share of %d ids", count).isEmpty();
        ok(worker.request("release_session", s1, Map.of()));
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
        openWithLiveRefs(s1, 100);
        openWithLiveRefs(s2, 10_000);
        LongSupplier clock = workerClock();
        double ratio = bestMedianRatio(() -> timeCreateAndRelease(s1, clock), () -> timeCreateAndRelease(s2, clock));
        assertThat(liveRefs(s1)).isEqualTo(100);
        assertThat(liveRefs(s2)).isEqualTo(10_000);
        assertThat(ratio).as("median create+release with 10,000 live refs / with 100").isLessThan(GROWTH_LIMIT);
    }

    @Test
    @Tag("optional")
    @Requirement("REF-7")
    void evictingFromASessionOfTenThousandRefsIsAsFastAsFromOneOfAHundred() {
        fillToEvict(s1, 100);
        fillToEvict(s2, 10_000);
        LongSupplier clock = workerClock();
        double ratio = bestMedianRatio(() -> timeCreate(s1, clock), () -> timeCreate(s2, clock));
        // Still full after every create: each one evicted one (how an evicted ref answers is REF-5's).
        assertThat(liveRefs(s1)).isEqualTo(100);
        assertThat(liveRefs(s2)).isEqualTo(10_000);
        assertThat(ratio).as("median create that evicts, in a full session of 10,000 refs / of 100").isLessThan(GROWTH_LIMIT);
    }

    /** An O(n) registry is about 10 to 30 times slower at 10,000 refs than at 100; an O(1) one about 1. */
    private static final double GROWTH_LIMIT = 3.0;

    /**
     * The ratio of the median of {@code large}'s samples to the median of {@code small}'s, taken in
     * up to three rounds of 301 samples each, the best round counting. The samples of the two
     * alternate, so a machine that gets busier meanwhile slows both alike; and a round spoilt by a
     * neighbour's burst of work on a shared machine is retried, while a registry that scans its refs
     * is slow in every round.
     */
    private static double bestMedianRatio(LongSupplier small, LongSupplier large) {
        double best = Double.POSITIVE_INFINITY;
        for (int round = 0; round < 3 && best >= GROWTH_LIMIT; round++) {
            long[] smallSamples = new long[301];
            long[] largeSamples = new long[301];
            for (int i = 0; i < smallSamples.length; i++) {
                smallSamples[i] = small.getAsLong();
                largeSamples[i] = large.getAsLong();
            }
            best = Math.min(best, (double) median(largeSamples) / Math.max(1, median(smallSamples)));
        }
        return best;
    }

    private static long median(long[] samples) {
        Arrays.sort(samples);
        return samples[samples.length / 2];
    }

    /**
     * What a sample measures: the CPU time the worker process spent, in nanoseconds, where Linux
     * tells it ({@code /proc/PID/schedstat}); else the wall-clock time. CPU time is what a scan of the
     * registry costs, and unlike the wall clock it does not grow while the worker waits for a core a
     * busy machine's neighbours hold: on a loaded machine, the wall-clock time of a round trip is
     * mostly waiting, and an O(n) worker's scans drown in it. A worker command that is a wrapper (the
     * worker a child of the process started) shows no CPU time of its own, and a remote worker none
     * that can be read here: the wall clock then.
     */
    private LongSupplier workerClock() {
        if (worker.localPid().isEmpty()) {
            return System::nanoTime; // a remote worker's pid is its server machine's: /proc here would show another process
        }
        Path schedstat = Path.of("/proc", Long.toString(worker.localPid().getAsLong()), "schedstat");
        LongSupplier cpu = () -> {
            try {
                return Long.parseLong(Files.readString(schedstat).trim().split("\\s+")[0]);
            } catch (IOException | RuntimeException e) {
                return -1;
            }
        };
        long before = cpu.getAsLong();
        for (int i = 0; i < 20; i++) {
            ok(worker.request("ping", Map.of()));
        }
        return before >= 0 && cpu.getAsLong() > before ? cpu : System::nanoTime;
    }

    /** A session full at {@code live} refs under evict_lru: every create evicts one. */
    private void fillToEvict(String session, int live) {
        ok(worker.request("open_session", session, Map.of("limits", Map.of("max_refs", live, "ref_limit_policy", "evict_lru"))));
        createRefs(session, live);
    }

    /** A session holding {@code live} refs, with room for a few more. */
    private void openWithLiveRefs(String session, int live) {
        ok(worker.request("open_session", session, Map.of("limits", Map.of("max_refs", live + 10))));
        createRefs(session, live);
    }

    private void createRefs(String session, int count) {
        ok(worker.request("call", session, fields("function", "eval", "args", List.of("[object() for _ in range(" + count + ")]"))));
    }

    private long timeCreate(String session, LongSupplier clock) {
        long start = clock.getAsLong();
        ok(call(session, "object"));
        return clock.getAsLong() - start;
    }

    private long timeCreateAndRelease(String session, LongSupplier clock) {
        long start = clock.getAsLong();
        JsonNode ref = ok(call(session, "object"));
        ok(worker.request("release_ref", session, fields("ids", List.of(ref.path("id").asText()))));
        return clock.getAsLong() - start;
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

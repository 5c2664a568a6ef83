package io.snakebridge.conformance.worker;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.snakebridge.conformance.Requirement;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

class PreparedConformanceTest extends WorkerConformance {

    private String prepare(String session, Object... more) {
        JsonNode ref = ok(worker.request("prepare", session, fields(more)));
        assertThat(ref.path("__type__").asText()).isEqualTo("ref");
        return ref.path("id").asText();
    }

    private JsonNode callPrepared(String session, String id, Object... args) {
        return worker.request("call_prepared", session, fields("prepared", id, "args", List.of(args)));
    }

    private JsonNode execute(String session, String id, Object... more) {
        Object[] all = new Object[more.length + 2];
        all[0] = "prepared";
        all[1] = id;
        System.arraycopy(more, 0, all, 2, more.length);
        return worker.request("execute_prepared", session, fields(all));
    }

    private static Map<String, Object> float64s(double... values) {
        ByteBuffer data = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (double v : values) {
            data.putDouble(v);
        }
        return fields("__type__", "ndarray", "__schema__", 1, "dtype", "float64", "shape", List.of(values.length),
                "data", Base64.getEncoder().encodeToString(data.array()));
    }

    @Test
    @Tag("optional")
    @Requirement("PREP-1")
    void prepareResolvesOnceAndKeepsARefThatEndsAsRefsDo() {
        assumeCapability("prepared");
        String sqrt = prepare(s1, "function", "math.sqrt");
        assertThat(liveRefs(s1)).isEqualTo(1);
        JsonNode rx = ok(callWith(s1, "re.compile", List.of("a+"), Map.of(), "ref"));
        String fullmatch = prepare(s1, "function", "fullmatch", "object", rx);
        assertThat(ok(callPrepared(s1, fullmatch, "b")).isNull()).isTrue();
        error(worker.request("prepare", s1, fields("function", "math.pi")), "invalid_argument");
        assertThat(error(worker.request("prepare", s1, fields("function", "math.nope")), "python_exception")
                .path("type").asText()).isEqualTo("AttributeError");
        assertThat(liveRefs(s1)).as("a failed prepare makes no ref").isEqualTo(3);
        assertThat(ok(worker.request("release_ref", s1, fields("ids", List.of(sqrt)))).get(0).asBoolean()).isTrue();
        assertThat(error(callPrepared(s1, sqrt, 4.0), "ref_not_found").path("details").path("reason").asText())
                .isEqualTo("released");
    }

    @Test
    @Tag("optional")
    @Requirement("PREP-1")
    void underAPolicyANameOutsideItCannotBePrepared() {
        assumeCapability("prepared");
        assumeCapability("module_policy");
        ok(worker.request("open_session", s1, fields("limits", Map.of(), "policy", Map.of("allow_modules", List.of("math")))));
        error(worker.request("prepare", s1, fields("function", "os.getcwd")), "policy_denied");
        error(worker.request("prepare", s1, fields("function", "math.__loader__")), "policy_denied");
        assertThat(liveRefs(s1)).isZero();
        assertThat(ok(callPrepared(s1, prepare(s1, "function", "math.sqrt"), 9)).asDouble()).isEqualTo(3.0);
    }

    @Test
    @Tag("optional")
    @Requirement("PREP-2")
    void callPreparedCallsWithArgumentsOnlyAndItsRefIsNoObject() {
        assumeCapability("prepared");
        String sqrt = prepare(s1, "function", "math.sqrt");
        assertThat(ok(callPrepared(s1, sqrt, 16.0)).asDouble()).isEqualTo(4.0);
        assertThat(error(callPrepared(s1, sqrt, -1.0), "python_exception").path("type").asText()).isEqualTo("ValueError");
        error(callPrepared(s2, sqrt, 1.0), "session_mismatch");
        error(worker.request("call_prepared", s1, fields("prepared", 7)), "protocol");
        error(callPrepared(s1, newRef(s1, 1).path("id").asText()), "invalid_argument");
        Map<String, Object> asRef = fields("__type__", "ref", "__schema__", 1, "id", sqrt, "session_id", s1);
        error(call(s1, "id", asRef), "invalid_argument");
        error(worker.request("get_attr", s1, fields("object", asRef, "name", "fn")), "invalid_argument");
    }

    @Test
    @Tag("optional")
    @Requirement("PREP-3")
    void everyRowGetsItsResultOrItsOwnErrorFromRowsOrColumns() {
        assumeCapability("prepared");
        String sqrt = prepare(s1, "function", "math.sqrt");
        JsonNode byRows = ok(execute(s1, sqrt, "rows", List.of(List.of(4.0), List.of(-1.0), List.of(9))));
        assertThat(byRows.path("values").toString()).isEqualTo("[2.0,null,3.0]");
        assertThat(byRows.path("errors").path("1").path("type").asText()).isEqualTo("ValueError");
        assertThat(byRows.path("errors").size()).isEqualTo(1);
        JsonNode byColumns = ok(execute(s1, sqrt, "columns", List.of(List.of(4.0, -1.0, 9))));
        assertThat(byColumns).isEqualTo(byRows);
        if (worker.capabilities().contains("arrays")) {
            assertThat(ok(execute(s1, prepare(s1, "function", "math.pow"), "columns", List.of(float64s(2, 3), List.of(10, 2))))
                    .path("values").toString()).isEqualTo("[1024.0,9.0]");
        }
        assertThat(ok(execute(s1, sqrt, "rows", List.of(List.of(4.0)), "want", "none")).path("values").isNull()).isTrue();
        error(execute(s1, sqrt), "protocol");
        error(execute(s1, sqrt, "rows", List.of(List.of(1)), "columns", List.of(List.of(1))), "protocol");
        error(execute(s1, sqrt, "rows", List.of(1)), "protocol");
        error(execute(s1, sqrt, "columns", List.of()), "protocol");
        error(execute(s1, sqrt, "columns", List.of(List.of(1), List.of(1, 2))), "invalid_argument");
        error(execute(s1, sqrt, "rows", List.of(List.of(1)), "want", "ref"), "invalid_argument");
    }

    @Test
    @Tag("optional")
    @Requirement("PREP-4")
    void resultsComeBackAsOneArrayOfTheDtypeAskedFor() {
        assumeCapability("prepared");
        assumeCapability("arrays");
        String sqrt = prepare(s1, "function", "math.sqrt");
        JsonNode result = ok(execute(s1, sqrt, "columns", List.of(List.of(4.0, -1.0, 9.0)), "want", "array", "dtype", "float64"));
        JsonNode values = result.path("values");
        assertThat(values.path("dtype").asText()).isEqualTo("float64");
        assertThat(values.path("shape").toString()).isEqualTo("[3]");
        ByteBuffer data = ByteBuffer.wrap(Base64.getDecoder().decode(values.path("data").asText())).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(new double[] {data.getDouble(), data.getDouble(), data.getDouble()}).containsExactly(2.0, 0.0, 3.0);
        assertThat(result.path("errors").fieldNames()).toIterable().containsExactly("1");
        JsonNode text = ok(execute(s1, prepare(s1, "function", "str"), "columns", List.of(List.of(1)), "want", "array",
                "dtype", "int64"));
        error(wrap(text.path("errors").path("0")), "invalid_value"); // a str is not an int64: its row fails
        error(execute(s1, sqrt, "columns", List.of(List.of(1.0)), "want", "array", "dtype", "complex128"), "invalid_argument");
    }

    /** A row's error object as a failed response, so that {@link #error} checks it as ERR-1 says. */
    private static JsonNode wrap(JsonNode error) {
        return new com.fasterxml.jackson.databind.ObjectMapper().valueToTree(Map.of("ok", false, "error", error));
    }

    @Test
    @Tag("optional")
    @Requirement("PREP-5")
    @Timeout(60)
    void aCancelEndsTheWholeExecutionAndThePreparedCallStays(@TempDir Path dir) throws Exception {
        assumeCapability("prepared");
        assumeCapability("cancel");
        assumeTheWorkerSeesFilesIn(dir);
        String exec = prepare(s1, "function", "exec");
        Path mark = dir.resolve("running");
        CompletableFuture<Boolean> interrupted = interruptOnceMarked(mark);
        error(execute(s1, exec, "rows", List.of(List.of("x = 1"), List.of(markThenSleep(mark)), List.of("y = 2"))), "cancelled");
        assertThat(interrupted.join()).isTrue();
        assertThat(ok(callPrepared(s1, exec, "z = 3")).isNull()).isTrue();
    }
}

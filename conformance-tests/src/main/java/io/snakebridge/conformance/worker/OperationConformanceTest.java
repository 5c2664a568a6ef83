package io.snakebridge.conformance.worker;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.snakebridge.conformance.Requirement;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

class OperationConformanceTest extends WorkerConformance {

    @Test
    @Tag("required")
    @Requirement("OP-NAME-1")
    void dottedNamesResolveThroughBuiltinsModulesClassesAndSubmodules() {
        assertThat(ok(call(s1, "len", List.of(1, 2))).asInt()).isEqualTo(2);
        assertThat(ok(call(s1, "os.path.join", "a", "b")).asText()).isEqualTo("a/b");
        assertThat(ok(call(s1, "collections.OrderedDict.fromkeys", List.of("k"))).has("k")).isTrue();
        assertThat(ok(call(s1, "xml.etree.ElementTree.fromstring", "<a/>")).path("type_name").asText()).isEqualTo("Element");
        assertThat(ok(worker.request("get_attr", s1, fields("name", "math.pi"))).asDouble()).isEqualTo(Math.PI);
        assertThat(error(call(s1, "math.no_such_function"), "python_exception").path("type").asText()).isEqualTo("AttributeError");
        error(call(s1, "os..path"), "invalid_argument");
    }

    @Test
    @Tag("required")
    @Requirement("OP-CALL-1")
    void callPassesPositionalAndKeywordArguments() {
        assertThat(ok(callWith(s1, "int", List.of("ff"), Map.of("base", 16), "value")).asInt()).isEqualTo(255);
        JsonNode text = newRef(s1, 0);
        assertThat(ok(worker.request("call", s1, fields("object", text, "function", "__repr__"))).asText()).contains("x=0");
    }

    @Test
    @Tag("required")
    @Requirement("OP-CALL-2")
    void wantRefKeepsEvenASerializableResultInPython() {
        JsonNode ref = ok(callWith(s1, "list", List.of(List.of(1, 2, 2)), Map.of(), "ref"));
        assertThat(ref.path("__type__").asText()).isEqualTo("ref");
        assertThat(ref.path("type_name").asText()).isEqualTo("list");
        assertThat(ok(worker.request("call_method", s1, fields("object", ref, "method", "count", "args", List.of(2)))).asInt()).isEqualTo(2);
        assertThat(ok(callWith(s1, "list", List.of(List.of(1)), Map.of(), "value")).isArray()).isTrue();
        error(callWith(s1, "list", List.of(), Map.of(), "maybe"), "protocol");
    }

    @Test
    @Tag("required")
    @Requirement("OP-METHOD-1")
    void callMethodCallsAMethodOrADottedAttributePathOfTheRef() {
        JsonNode pattern = ok(call(s1, "re.compile", "a+b"));
        JsonNode match = ok(worker.request("call_method", s1, fields("object", pattern, "method", "fullmatch", "args", List.of("aab"))));
        assertThat(ok(worker.request("call_method", s1, fields("object", match, "method", "group"))).asText()).isEqualTo("aab");
        assertThat(ok(worker.request("call_method", s1, fields("object", pattern, "method", "pattern.upper"))).asText()).isEqualTo("A+B");
        error(worker.request("call_method", s1, fields("method", "upper")), "protocol");
    }

    @Test
    @Tag("required")
    @Requirement("OP-GET-1")
    void getAttrReadsARefsAttributeOrAGlobalName() {
        JsonNode ns = newRef(s1, 5);
        assertThat(ok(getX(s1, ns)).asInt()).isEqualTo(5);
        assertThat(ok(worker.request("get_attr", s1, fields("name", "sys.version_info.major"))).asInt()).isEqualTo(3);
    }

    @Test
    @Tag("required")
    @Requirement("OP-SET-1")
    void setAttrWritesARefsAttributeOrAGlobalOwnersAttribute() {
        JsonNode ns = newRef(s1, 5);
        assertThat(ok(worker.request("set_attr", s1, fields("object", ns, "name", "x", "value", 6))).isNull()).isTrue();
        assertThat(ok(getX(s1, ns)).asInt()).isEqualTo(6);
        ok(worker.request("set_attr", s1, fields("name", "types.snakebridge_conformance_marker", "value", "set")));
        assertThat(ok(worker.request("get_attr", s1, fields("name", "types.snakebridge_conformance_marker"))).asText()).isEqualTo("set");
    }

    @Test
    @Tag("required")
    @Requirement({"OP-REL-1", "REF-2"})
    void releaseRefReleasesABatchReportsUnknownIdsAsFalseAndRefusesForeignIds() {
        JsonNode a = newRef(s1, 1);
        JsonNode b = newRef(s1, 2);
        JsonNode released = ok(worker.request("release_ref", s1, fields("ids", List.of(a.get("id").asText(), a.get("id").asText(), "0".repeat(32)))));
        assertThat(released.toString()).isEqualTo("[true,false,false]");
        JsonNode foreign = newRef(s2, 3);
        error(worker.request("release_ref", s1, fields("ids", List.of(b.get("id").asText(), foreign.get("id").asText()))), "session_mismatch");
        assertThat(ok(getX(s1, b)).asInt()).isEqualTo(2); // nothing released
        assertThat(ok(getX(s2, foreign)).asInt()).isEqualTo(3);
    }

    @Test
    @Tag("optional")
    @Requirement("OP-STREAM-1")
    void streamNextReadsAnIteratorInBatchesAndKeepsItemsYieldedBeforeAnError() {
        assumeCapability("stream_refs");
        JsonNode squares = ok(callWith(s1, "eval", List.of("(i * i for i in range(5))"), Map.of(), "ref"));
        assertThat(squares.path("__type__").asText()).isEqualTo("stream_ref");
        assertThat(ok(worker.request("stream_next", s1, fields("object", squares, "max_items", 3))).toString())
                .isEqualTo("{\"items\":[0,1,4],\"done\":false}");
        assertThat(ok(worker.request("stream_next", s1, fields("object", squares, "max_items", 3))).toString())
                .isEqualTo("{\"items\":[9,16],\"done\":true}");
        JsonNode failing = ok(call(s1, "eval", "(1 // (2 - i) for i in range(5))"));
        JsonNode partial = ok(worker.request("stream_next", s1, fields("object", failing, "max_items", 10)));
        assertThat(partial.path("items").toString()).isEqualTo("[0,1]");
        assertThat(partial.path("done").asBoolean()).isTrue();
        assertThat(partial.path("error").path("type").asText()).isEqualTo("ZeroDivisionError");
        JsonNode list = ok(callWith(s1, "list", List.of(List.of(1)), Map.of(), "ref"));
        error(worker.request("stream_next", s1, fields("object", list, "max_items", 1)), "invalid_argument");
        error(worker.request("stream_next", s1, fields("object", squares, "max_items", 0)), "protocol");
    }

    @Test
    @Tag("required")
    @Requirement("OP-PING-1")
    void pingAnswersPong() {
        assertThat(ok(worker.request("ping", Map.of())).asText()).isEqualTo("pong");
    }

    @Test
    @Tag("required")
    @Requirement({"OP-EXC-1", "ERR-1"})
    void aPythonExceptionIsAnErrorResponseWithTypeTracebackAndCauseAndTheSessionGoesOn() {
        JsonNode ns = newRef(s1, 1);
        JsonNode error = error(call(s1, "json.loads", "{bad"), "python_exception");
        assertThat(error.path("type").asText()).isEqualTo("json.decoder.JSONDecodeError");
        assertThat(error.path("traceback").isArray()).isTrue();
        assertThat(error.path("traceback").get(error.path("traceback").size() - 1).path("line").isInt()).isTrue();
        JsonNode chained = error(call(s1, "exec", "try:\n    {}['k']\nexcept KeyError as e:\n    raise ValueError('v') from e"),
                "python_exception");
        assertThat(chained.path("cause").path("type").asText()).isEqualTo("KeyError");
        assertThat(ok(getX(s1, ns)).asInt()).isEqualTo(1);
    }
}

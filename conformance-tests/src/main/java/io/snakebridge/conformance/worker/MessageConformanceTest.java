package io.snakebridge.conformance.worker;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.snakebridge.conformance.Requirement;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

class MessageConformanceTest extends WorkerConformance {

    @Test
    @Tag("required")
    @Requirement({"MSG-1", "MSG-2"})
    void everyRequestGetsOneResponseEchoingItsIdInOrder() {
        for (int i = 0; i < 5; i++) {
            JsonNode response = call(s1, "abs", -i);
            assertThat(ok(response).asInt()).isEqualTo(i);
        }
        JsonNode failed = call(s1, "int", "not a number");
        assertThat(failed.has("result")).isFalse();
        assertThat(failed.path("error").isObject()).isTrue();
    }

    @Test
    @Tag("required")
    @Requirement("MSG-3")
    void framesThatAreNotJsonObjectsWithAnIdGetAProtocolErrorAndServingGoesOn() {
        List<byte[]> bad = List.of(new byte[] {(byte) 0xff, (byte) 0xfe}, "{not json".getBytes(StandardCharsets.UTF_8),
                "[1, 2]".getBytes(StandardCharsets.UTF_8), "{\"op\": \"ping\"}".getBytes(StandardCharsets.UTF_8),
                "{\"id\": \"seven\", \"op\": \"ping\"}".getBytes(StandardCharsets.UTF_8));
        for (byte[] frame : bad) {
            worker.sendFrame(frame);
            JsonNode response = worker.readFrame();
            assertThat(response).as("an answer to %s", new String(frame, StandardCharsets.UTF_8)).isNotNull();
            assertThat(response.get("id").isNull()).isTrue();
            error(response, "protocol");
        }
        assertThat(ok(worker.request("ping", Map.of())).asText()).isEqualTo("pong");
    }

    @Test
    @Tag("required")
    @Requirement("MSG-4")
    void unknownOpsAndMissingOrMistypedFieldsGetAProtocolErrorWithTheRequestId() {
        error(worker.request("fly", s1, Map.of()), "protocol");
        error(worker.request("call", s1, Map.of()), "protocol");
        error(worker.request("call", s1, fields("function", "len", "args", "not a list")), "protocol");
        error(worker.request("call", fields("function", "len", "args", List.of("x"))), "protocol"); // no session_id
        error(worker.request("release_ref", s1, fields("ids", "not a list")), "protocol");
        assertThat(ok(call(s1, "len", "abc")).asInt()).isEqualTo(3);
    }

    @Test
    @Tag("optional")
    @Requirement("MSG-5")
    void unknownExtraFieldsAreIgnored() {
        assertThat(ok(worker.request("ping", fields("trace_id", "abc"))).asText()).isEqualTo("pong");
        JsonNode tuple = ok(call(s1, "len", Map.of("__type__", "tuple", "__schema__", 1, "elements", List.of(1, 2), "hint", "x")));
        assertThat(tuple.asInt()).isEqualTo(2);
    }

    @Test
    @Tag("optional")
    @Requirement("MSG-6")
    void idsInReleaseAreReleasedBeforeTheOpAndUnknownOrForeignIdsAreSkipped() {
        assumeCapability("batch_release");
        JsonNode mine = newRef(s1, 1);
        JsonNode theirs = newRef(s2, 2);
        ok(worker.request("ping", Map.of()));
        ok(worker.request("call", s1, fields("function", "len", "args", List.of("ab"),
                "release", List.of(mine.get("id").asText(), theirs.get("id").asText(), "f".repeat(32)))));
        assertThat(liveRefs(s1)).isZero();
        assertThat(ok(getX(s2, theirs)).asInt()).isEqualTo(2);
    }
}

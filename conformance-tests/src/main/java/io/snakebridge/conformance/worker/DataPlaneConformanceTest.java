package io.snakebridge.conformance.worker;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.snakebridge.conformance.ProtocolClient;
import io.snakebridge.conformance.Requirement;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Attachments, arrays and the object protocol. Written so that a worker without numpy passes too. */
class DataPlaneConformanceTest extends WorkerConformance {

    private static Map<String, Object> bytesAttachment(int index) {
        return fields("__type__", "bytes", "__schema__", 1, "attachment", index);
    }

    private static Map<String, Object> ndarray(String dtype, List<Integer> shape, byte[] data) {
        return fields("__type__", "ndarray", "__schema__", 1, "dtype", dtype, "shape", shape,
                "data", Base64.getEncoder().encodeToString(data));
    }

    private static byte[] int32s(int... values) {
        ByteBuffer buffer = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int v : values) {
            buffer.putInt(v);
        }
        return buffer.array();
    }

    private static byte[] payload(JsonNode value, List<byte[]> attachments) {
        return value.has("attachment") ? attachments.get(value.get("attachment").asInt())
                : Base64.getDecoder().decode(value.path("data").asText());
    }

    /** Reads the attachment frames a response announced. */
    private static List<byte[]> attachmentsOf(ProtocolClient client, JsonNode response) {
        List<byte[]> frames = new java.util.ArrayList<>();
        for (int i = 0; i < response.path("attachments").asInt(0); i++) {
            frames.add(client.readRawFrame());
        }
        return frames;
    }

    @Test
    @Tag("optional")
    @Requirement("ATT-1")
    void bytesTravelAsAttachmentFramesBothWays() {
        assumeCapability("attachments");
        byte[] big = new byte[64 * 1024];
        for (int i = 0; i < big.length; i++) {
            big[i] = (byte) ('a' + i % 26);
        }
        try (ProtocolClient client = ProtocolClient.connect(List.of("attachments"))) {
            JsonNode response = client.request("call", s1, fields("function", "bytes.upper", "args", List.of(bytesAttachment(0))),
                    List.of(big));
            List<byte[]> frames = attachmentsOf(client, response);
            assertThat(response.path("ok").asBoolean()).as(response.toString()).isTrue();
            assertThat(response.path("attachments").asInt()).isEqualTo(1);
            assertThat(payload(response.get("result"), frames)).isEqualTo(new String(big).toUpperCase().getBytes());
        }
    }

    @Test
    @Tag("optional")
    @Requirement("ATT-2")
    void aClientThatDidNotAskForAttachmentsGetsInlineBase64() {
        assumeCapability("attachments");
        JsonNode result = ok(call(s1, "bytes", 100_000));
        assertThat(result.has("attachment")).isFalse();
        assertThat(Base64.getDecoder().decode(result.path("data").asText())).hasSize(100_000);
        ok(worker.request("ping", Map.of())); // no stray attachment frame came after the response
    }

    @Test
    @Tag("optional")
    @Requirement("ATT-3")
    void aBadAttachmentCountClosesTheStreamAndAMissingIndexIsInvalidValue() {
        assumeCapability("attachments");
        error(worker.request("call", s1, fields("function", "len", "args", List.of(bytesAttachment(3))), List.of(new byte[] {1})),
                "invalid_value");
        ok(worker.request("ping", Map.of()));
        try (ProtocolClient client = ProtocolClient.connect()) {
            client.sendMessage(fields("id", 1, "op", "ping", "attachments", -1));
            JsonNode response = client.readFrame();
            assertThat(response.path("id").isNull()).isTrue();
            assertThat(response.path("error").path("code").asText()).isEqualTo("protocol");
            assertThat(client.exitCode(Duration.ofSeconds(10))).isNotZero();
        }
    }

    @Test
    @Tag("optional")
    @Requirement("VAL-ARRAY-1")
    void anNdarrayReachesUserCodeAsAnArrayOfItsShape() {
        assumeCapability("arrays");
        assertThat(ok(call(s1, "sum", ndarray("int32", List.of(3), int32s(1, 2, 40)))).asInt()).isEqualTo(43);
        assertThat(ok(call(s1, "len", ndarray("int32", List.of(2, 2), int32s(1, 2, 3, 4)))).asInt()).isEqualTo(2);
        error(call(s1, "len", ndarray("int32", List.of(2, 2), int32s(1))), "invalid_value");
        error(call(s1, "len", ndarray("complex64", List.of(1), new byte[8])), "invalid_value");
    }

    @Test
    @Tag("optional")
    @Requirement("VAL-ARRAY-2")
    void wantArrayReturnsAStridedBufferInCOrder() {
        assumeCapability("arrays");
        JsonNode array = ok(callWith(s1, "eval", List.of("memoryview(__import__('array').array('i', range(6)))[::2]"), Map.of(), "array"));
        assertThat(array.path("dtype").asText()).isEqualTo("int32");
        assertThat(array.path("shape").toString()).isEqualTo("[3]");
        assertThat(payload(array, List.of())).isEqualTo(int32s(0, 2, 4));
        error(callWith(s1, "list", List.of(List.of("a")), Map.of(), "array"), "invalid_value");
    }

    @Test
    @Tag("optional")
    @Requirement("OP-GET-2")
    void getReturnsARefsOwnValueAndKeepsTheRef() {
        assumeCapability("object_protocol");
        JsonNode list = ok(callWith(s1, "list", List.of(List.of(1, 2)), Map.of(), "ref"));
        assertThat(ok(worker.request("get", s1, fields("object", list))).toString()).isEqualTo("[1,2]");
        assertThat(ok(worker.request("get", s1, fields("object", list))).toString()).isEqualTo("[1,2]");
        error(worker.request("get", s1, fields()), "protocol");
    }

    @Test
    @Tag("optional")
    @Requirement("OP-APPLY-1")
    void applyRunsLenContainsItemAccessReprAndContextManagers() {
        assumeCapability("object_protocol");
        JsonNode table = ok(callWith(s1, "dict", List.of(), Map.of("k", 1), "ref"));
        Map<String, Object> tupleKey = fields("__type__", "tuple", "__schema__", 1, "elements", List.of(1, 2));
        assertThat(ok(apply(table, "len")).asInt()).isEqualTo(1);
        assertThat(ok(apply(table, "setitem", tupleKey, "v")).isNull()).isTrue();
        assertThat(ok(apply(table, "getitem", tupleKey)).asText()).isEqualTo("v");
        assertThat(ok(apply(table, "contains", "k")).asBoolean()).isTrue();
        assertThat(ok(apply(table, "iter")).path("__type__").asText()).isEqualTo("stream_ref");
        ok(apply(table, "delitem", "k"));
        assertThat(ok(apply(table, "repr")).asText()).isEqualTo("{(1, 2): 'v'}");
        assertThat(error(apply(table, "getitem", "k"), "python_exception").path("type").asText()).isEqualTo("KeyError");
        error(apply(table, "len", 1), "protocol");
        error(apply(table, "fly"), "protocol");
        JsonNode anything = ok(callWith(s1, "eval", List.of("__import__('contextlib').suppress(Exception)"), Map.of(), "ref"));
        ok(apply(anything, "enter"));
        assertThat(ok(apply(anything, "exit", "java.lang.RuntimeException", "boom")).asBoolean()).isTrue();
        JsonNode nothing = ok(callWith(s1, "eval", List.of("__import__('contextlib').suppress()"), Map.of(), "ref"));
        ok(apply(nothing, "enter"));
        assertThat(ok(apply(nothing, "exit", "java.lang.RuntimeException", "boom")).asBoolean()).isFalse();
    }

    private JsonNode apply(JsonNode object, String action, Object... args) {
        return worker.request("apply", s1, fields("object", object, "action", action, "args", List.of(args)));
    }
}

package io.snakebridge.conformance.worker;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.snakebridge.conformance.ProtocolClient;
import io.snakebridge.conformance.Requirement;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Lean frames (LEAN-*), written byte by byte as PROTOCOL.md describes them. */
class LeanConformanceTest extends WorkerConformance {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A lean frame's header: magic, op, id, session id and prepared id. */
    private static ByteBuffer head(int op, long id, String session, String prepared, int more) {
        byte[] s = session.getBytes(StandardCharsets.UTF_8);
        byte[] p = prepared.getBytes(StandardCharsets.UTF_8);
        ByteBuffer out = ByteBuffer.allocate(14 + s.length + p.length + more).order(ByteOrder.LITTLE_ENDIAN);
        return out.put((byte) 0xB1).put((byte) op).putLong(id).putShort((short) s.length).put(s).putShort((short) p.length).put(p);
    }

    private static byte[] callF64(long id, String session, String prepared, double arg) {
        return head(1, id, session, prepared, 10).put((byte) 1).put((byte) 'd').putDouble(arg).array();
    }

    private static byte[] executeF64(long id, String session, String prepared, int want, double... column) {
        ByteBuffer out = head(2, id, session, prepared, 7 + 8 * column.length).put((byte) want).putInt(column.length).put((byte) 1)
                .put((byte) 'd');
        for (double v : column) {
            out.putDouble(v);
        }
        return out.array();
    }

    /** A worker's answer as JSON: a JSON frame as it is, a lean one as the JSON it stands for (LEAN-2). */
    private static JsonNode answer(byte[] frame) {
        if ((frame[0] & 0xFF) != 0xB1) {
            try {
                return JSON.readTree(frame);
            } catch (IOException e) {
                throw new AssertionError("the worker sent a frame that is neither JSON nor lean", e);
            }
        }
        ByteBuffer in = ByteBuffer.wrap(frame).order(ByteOrder.LITTLE_ENDIAN);
        in.get();
        Map<String, Object> response = new java.util.LinkedHashMap<>(Map.of("id", in.getLong(), "ok", true));
        byte kind = in.get();
        switch (kind) {
            case 'd' -> response.put("result", in.getDouble());
            case 'q' -> response.put("result", in.getLong());
            case 'A' -> {
                int want = in.get();
                int count = in.getInt();
                assertThat(want).isEqualTo(2);
                double[] values = new double[count];
                in.asDoubleBuffer().get(values);
                in.position(in.position() + 8 * count);
                response.put("result", Map.of("values", values, "errors", Map.of()));
            }
            default -> throw new AssertionError("unexpected lean kind " + kind);
        }
        assertThat(in.hasRemaining()).as("bytes after a lean answer's value").isFalse();
        return JSON.valueToTree(response);
    }

    private static String prepare(ProtocolClient client, String session, String function) {
        return ok(client.request("prepare", session, fields("function", function))).path("id").asText();
    }

    @Test
    @Tag("optional")
    @Requirement("LEAN-1")
    void aLeanRequestIsAnsweredAsItsJsonTwin() {
        assumeCapability("lean");
        assumeCapability("prepared");
        try (ProtocolClient lean = ProtocolClient.connect(List.of("lean"))) {
            String sqrt = prepare(lean, s1, "math.sqrt");
            lean.sendFrame(callF64(41, s1, sqrt, 2.0));
            JsonNode answer = answer(lean.readRawFrame());
            assertThat(answer.path("id").asLong()).isEqualTo(41);
            assertThat(ok(answer).asDouble()).isEqualTo(Math.sqrt(2.0));
            lean.sendFrame(callF64(42, s1, sqrt, -1.0));
            assertThat(error(answer(lean.readRawFrame()), "python_exception").path("type").asText()).isEqualTo("ValueError");
            lean.sendFrame(executeF64(43, s1, sqrt, 0, 4.0, -1.0, 9.0));
            JsonNode rows = ok(answer(lean.readRawFrame()));
            assertThat(rows.path("values").toString()).isEqualTo("[2.0,null,3.0]");
            assertThat(rows.path("errors").has("1")).isTrue();
        }
    }

    @Test
    @Tag("optional")
    @Requirement("LEAN-1")
    void aLeanCallByNameIsAnsweredAsItsJsonTwin() {
        assumeCapability("lean");
        try (ProtocolClient lean = ProtocolClient.connect(List.of("lean"))) {
            lean.sendFrame(head(3, 51, s1, "math.sqrt", 10).put((byte) 1).put((byte) 'd').putDouble(2.0).array());
            JsonNode answer = answer(lean.readRawFrame());
            assertThat(answer.path("id").asLong()).isEqualTo(51);
            assertThat(ok(answer).asDouble()).isEqualTo(Math.sqrt(2.0));
            lean.sendFrame(head(3, 52, s1, "abs", 10).put((byte) 1).put((byte) 'q').putLong(-7).array());
            assertThat(ok(answer(lean.readRawFrame())).asLong()).isEqualTo(7);
            lean.sendFrame(head(3, 53, s1, "math.sqrt", 10).put((byte) 1).put((byte) 'd').putDouble(-1.0).array());
            assertThat(error(answer(lean.readRawFrame()), "python_exception").path("type").asText()).isEqualTo("ValueError");
            lean.sendFrame(head(3, 54, s1, "math.no_such_name", 1).put((byte) 0).array());
            assertThat(error(answer(lean.readRawFrame()), "python_exception").path("type").asText()).isEqualTo("AttributeError");
            lean.sendFrame(head(3, 55, s1, "not a name", 1).put((byte) 0).array());
            assertThat(error(answer(lean.readRawFrame()), "invalid_argument").isObject()).isTrue();
        }
    }

    @Test
    @Tag("optional")
    @Requirement("LEAN-2")
    void anArrayAnswerComesBackWholeAndAClientWithoutLeanGetsNoLeanFrame() {
        assumeCapability("lean");
        assumeCapability("prepared");
        assumeCapability("arrays");
        try (ProtocolClient lean = ProtocolClient.connect(List.of("lean", "attachments"))) {
            String sqrt = prepare(lean, s1, "math.sqrt");
            double[] squares = new double[500];
            for (int i = 0; i < squares.length; i++) {
                squares[i] = (double) i * i;
            }
            lean.sendFrame(executeF64(7, s1, sqrt, 2, squares));
            byte[] frame = lean.readRawFrame();
            JsonNode answer = answer(frame);
            if ((frame[0] & 0xFF) == 0xB1) {
                assertThat(answer.path("result").path("values").size()).isEqualTo(500);
                assertThat(answer.path("result").path("values").get(499).asDouble()).isEqualTo(499.0);
            } else {
                assertThat(ok(answer).path("values").path("dtype").asText()).isEqualTo("float64"); // JSON: its attachment follows
            }
        }
        String sqrt = prepare(worker, s1, "math.sqrt");
        JsonNode json = worker.request("call_prepared", s1, fields("prepared", sqrt, "args", List.of(2.0)));
        assertThat(ok(json).asDouble()).isEqualTo(Math.sqrt(2.0)); // readFrame parsed it as JSON: no lean frame came
    }

    @Test
    @Tag("optional")
    @Requirement("LEAN-3")
    @Timeout(120)
    void malformedLeanFramesAreProtocolErrorsAndTheWorkerKeepsServing() {
        assumeCapability("lean");
        assumeCapability("prepared");
        worker.sendFrame(callF64(1, s1, "x", 1.0));
        error(worker.readFrame(), "protocol"); // this client did not list lean
        try (ProtocolClient lean = ProtocolClient.connect(List.of("lean"))) {
            String sqrt = prepare(lean, s1, "math.sqrt");
            byte[] good = callF64(5, s1, sqrt, 2.0);
            Random random = new Random(18);
            for (int i = 0; i < 200; i++) {
                byte[] frame = mutate(good, random);
                lean.sendFrame(frame);
                JsonNode answer = answer(lean.readRawFrame());
                assertThat(answer.has("ok")).as("an answer to %s", (Object) frame).isTrue();
            }
            for (byte[] frame : List.of(java.util.Arrays.copyOf(good, 9), java.util.Arrays.copyOf(good, good.length - 1),
                    concat(good, new byte[] {0}), opCode(good, 9))) {
                lean.sendFrame(frame);
                error(answer(lean.readRawFrame()), "protocol");
            }
            lean.sendFrame(good);
            assertThat(ok(answer(lean.readRawFrame())).asDouble()).isEqualTo(Math.sqrt(2.0));
        }
    }

    private static byte[] mutate(byte[] good, Random random) {
        byte[] frame = good.clone();
        switch (random.nextInt(3)) {
            case 0 -> frame = java.util.Arrays.copyOf(frame, 1 + random.nextInt(frame.length - 1));
            case 1 -> frame[1 + random.nextInt(frame.length - 1)] = (byte) random.nextInt(256);
            default -> {
                byte[] tail = new byte[1 + random.nextInt(8)];
                random.nextBytes(tail);
                frame = concat(frame, tail);
            }
        }
        return frame;
    }

    private static byte[] opCode(byte[] good, int op) {
        byte[] frame = good.clone();
        frame[1] = (byte) op;
        return frame;
    }

    private static byte[] concat(byte[] a, byte[] b) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(a);
        out.writeBytes(b);
        return out.toByteArray();
    }
}

package io.snakebridge.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.doubles;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;
import static org.quicktheories.generators.SourceDSL.longs;
import static org.quicktheories.generators.SourceDSL.strings;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.snakebridge.ProtocolException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The lean answers (PROTOCOL.md LEAN-2) as the driver reads them, and hostile ones (LEAN-3). */
class LeanTest {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private static ByteBuffer answer(long id, int size) {
        return ByteBuffer.allocate(9 + size).order(ByteOrder.LITTLE_ENDIAN).put(Lean.MAGIC).putLong(id);
    }

    @Test
    void scalarAnswersReadAsTheirJsonTwins() {
        qt().forAll(longs().all(), doubles().any()).checkAssert((id, value) -> {
            Message read = Lean.response(answer(id, 9).put((byte) 'd').putDouble(value).array(), NODES);
            assertThat(read.body().path("id").asLong()).isEqualTo(id);
            assertThat(read.body().path("ok").asBoolean()).isTrue();
            assertThat(read.result().doubleValue()).isEqualTo(value);
        });
        qt().forAll(longs().all()).checkAssert(value ->
                assertThat(Lean.response(answer(1, 9).put((byte) 'q').putLong(value).array(), NODES).result().longValue()).isEqualTo(value));
        qt().forAll(strings().allPossible().ofLengthBetween(0, 40)).assuming(text -> text.codePoints().noneMatch(
                c -> c >= 0xD800 && c <= 0xDFFF)).checkAssert(text -> {
            byte[] data = text.getBytes(StandardCharsets.UTF_8);
            byte[] frame = answer(1, 5 + data.length).put((byte) 's').putInt(data.length).put(data).array();
            assertThat(Lean.response(frame, NODES).result().textValue()).isEqualTo(text);
        });
        assertThat(Lean.response(answer(1, 1).put((byte) 'N').array(), NODES).result().isNull()).isTrue();
        assertThat(Lean.response(answer(1, 1).put((byte) 'T').array(), NODES).result().booleanValue()).isTrue();
    }

    @Test
    void anArrayAnswerIsAnNdarrayWithItsDataAsAttachment() {
        byte[] frame = answer(3, 6 + 16).put((byte) 'A').put((byte) 2).putInt(2).putDouble(1.5).putDouble(-2).array();
        Message read = Lean.response(frame, NODES);
        assertThat(read.result().path("values").path("dtype").asText()).isEqualTo("float64");
        assertThat(read.result().path("values").path("attachment").asInt()).isZero();
        assertThat(read.result().path("errors").size()).isZero();
        assertThat(ByteBuffer.wrap(read.attachments().get(0)).order(ByteOrder.LITTLE_ENDIAN).getDouble(8)).isEqualTo(-2.0);
        byte[] short1 = answer(3, 6 + 15).put((byte) 'A').put((byte) 2).putInt(2).array();
        assertThatThrownBy(() -> Lean.response(short1, NODES)).isInstanceOf(ProtocolException.class);
        byte[] badDtype = answer(3, 6).put((byte) 'A').put((byte) 9).putInt(0).array();
        assertThatThrownBy(() -> Lean.response(badDtype, NODES)).isInstanceOf(ProtocolException.class);
    }

    @Test
    void anyMalformedAnswerIsAProtocolExceptionAndNothingElse() {
        qt().withExamples(5_000).forAll(lists().of(integers().between(0, 255)).ofSizeBetween(0, 40)).checkAssert(bytes -> {
            byte[] frame = new byte[bytes.size() + 1];
            frame[0] = Lean.MAGIC;
            for (int i = 0; i < bytes.size(); i++) {
                frame[i + 1] = (byte) (int) bytes.get(i);
            }
            try {
                Lean.response(frame, NODES);
            } catch (ProtocolException expected) {
                // the one way a lean answer may fail
            }
        });
    }

    @Test
    void onlyWhatHasALeanFormIsWrittenLean() {
        Request scalars = Request.callPrepared("p", List.of(1.5, 2L, "é", true));
        byte[] frame = Lean.request(7, "s", scalars);
        assertThat(frame).isNotNull();
        ByteBuffer in = ByteBuffer.wrap(frame).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(in.get()).isEqualTo(Lean.MAGIC);
        assertThat(in.get()).isEqualTo((byte) 1);
        assertThat(in.getLong()).isEqualTo(7);
        assertThat(Lean.request(7, "s", Request.callPrepared("p", List.of(List.of(1))))).isNull();
        assertThat(Lean.request(7, "s", Request.callPrepared("p", List.of(java.util.Map.of("__type__", "special_float"))))).isNull();
        assertThat(Lean.request(7, "s", Request.ping())).isNull();
        Request rows = Request.executePrepared("p", List.of(List.of(1.0)), null, "float64");
        assertThat(Lean.request(7, "s", rows)).as("rows without primitive columns").isNull();
        Request columns = Request.executePrepared("p", null, List.of(), "float64").withLeanColumns(List.of(new double[] {1, 2}, new long[] {3, 4}));
        assertThat(Lean.request(7, "s", columns)).hasSize(14 + 1 + 1 + 6 + 2 * 17);
        Request ragged = Request.executePrepared("p", null, List.of(), null).withLeanColumns(List.of(new double[] {1}, new long[] {3, 4}));
        assertThat(Lean.request(7, "s", ragged)).isNull();
    }
}

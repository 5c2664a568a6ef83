package io.snakebridge.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** maxResponseElements counts exactly the JSON values a message holds, whatever their kind (PROTOCOL.md RESP-2). */
class CountingNodeFactoryTest {
    /** Every kind of JSON value a parser makes a node for: 19 values (member names are not values). */
    private static final byte[] EVERY_KIND = ("{\"int\": 1, \"long\": 12345678901, \"big\": 123456789012345678901234567890,"
            + " \"float\": 1.5, \"exp\": 1e300, \"text\": \"t\", \"empty\": \"\", \"yes\": true, \"no\": false, \"none\": null,"
            + " \"list\": [[], [0], {}], \"dict\": {\"a\": {\"b\": []}}}").getBytes(StandardCharsets.UTF_8);
    private static final int EVERY_KIND_VALUES = 19;

    private static ObjectReader readerCountingInto(CountingNodeFactory values) {
        return WireJson.mapper(1 << 20, 200, 100_000).reader().with(values);
    }

    private static int valuesIn(JsonNode node) {
        int values = 1;
        for (JsonNode child : node) {
            values += valuesIn(child);
        }
        return values;
    }

    @Test
    void eachJsonValueOfEveryKindCountsOnceAndOneValuePastTheCapStopsTheParse() throws Exception {
        JsonNode tree = readerCountingInto(new CountingNodeFactory(EVERY_KIND_VALUES)).readTree(EVERY_KIND);
        assertThat(valuesIn(tree)).isEqualTo(EVERY_KIND_VALUES);
        assertThatThrownBy(() -> readerCountingInto(new CountingNodeFactory(EVERY_KIND_VALUES - 1)).readTree(EVERY_KIND))
                .isInstanceOf(CountingNodeFactory.TooManyValues.class);
    }

    @Test
    void theCountStartsAgainForEachMessage() throws Exception {
        CountingNodeFactory values = new CountingNodeFactory(EVERY_KIND_VALUES);
        ObjectReader reader = readerCountingInto(values);
        for (int message = 0; message < 3; message++) {
            values.reset();
            assertThat(valuesIn(reader.readTree(EVERY_KIND))).isEqualTo(EVERY_KIND_VALUES);
        }
    }

    @Test
    void theCountingReaderIsAsStrictAsTheWireMapper() {
        ObjectReader reader = readerCountingInto(new CountingNodeFactory(100));
        assertThatThrownBy(() -> reader.readTree("{} {}".getBytes(StandardCharsets.UTF_8))).isInstanceOf(JsonProcessingException.class);
        assertThatThrownBy(() -> reader.readTree("[NaN]".getBytes(StandardCharsets.UTF_8))).isInstanceOf(JsonProcessingException.class);
    }
}

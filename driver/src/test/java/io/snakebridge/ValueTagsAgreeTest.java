package io.snakebridge;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The tagged values of PROTOCOL.md VAL-TAG-1 are exactly the ones the Java codec reads or writes.
 * The Python codec is held to the same table by the worker's own test (test_value_tags.py).
 */
class ValueTagsAgreeTest extends SharedWorkerTest {
    private static final Path PROTOCOL = Path.of("..").toAbsolutePath().normalize().resolve("PROTOCOL.md");
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void everyDocumentedTagIsReadOrWrittenByTheJavaCodecAndNoOtherIs() throws IOException {
        Set<String> documented = documentedTags();
        Set<String> java = new TreeSet<>(tagsTheDecoderReads(documented));
        java.addAll(tagsTheEncoderWrites());
        assertThat(java).isEqualTo(documented);
    }

    @Test
    void theDecoderRefusesATagTheProtocolDoesNotHave() {
        assertThat(tagsTheDecoderReads(Set.of("no_such_tag"))).isEmpty();
    }

    /** The tags of the VAL-TAG-1 table. */
    static Set<String> documentedTags() throws IOException {
        String text = Files.readString(PROTOCOL);
        String table = text.substring(text.indexOf("**VAL-TAG-1**"), text.indexOf("**VAL-TAG-2**"));
        Set<String> tags = new TreeSet<>();
        Matcher row = Pattern.compile("(?m)^\\s*\\| `([a-z_]+)` \\|").matcher(table);
        while (row.find()) {
            tags.add(row.group(1));
        }
        assertThat(tags).as("tags found in PROTOCOL.md").hasSizeGreaterThan(10);
        return tags;
    }

    /** Of {@code candidates}, the tags the decoder knows: an empty value of a known tag is malformed, not unknown. */
    private static Set<String> tagsTheDecoderReads(Set<String> candidates) {
        Set<String> read = new TreeSet<>();
        for (String tag : candidates) {
            JsonNode empty = JSON.valueToTree(Map.of(ValueCodec.TYPE, tag, ValueCodec.SCHEMA, ValueCodec.SCHEMA_VERSION));
            try {
                ValueDecoder.decode(empty, NO_REFS);
                read.add(tag);
            } catch (ProtocolException e) {
                if (!e.getMessage().contains("unknown tag")) {
                    read.add(tag);
                }
            }
        }
        return read;
    }

    /** The tags in a batch whose arguments are one value of every kind Java sends, as the connection encodes it. */
    private static Set<String> tagsTheEncoderWrites() {
        try (RefHandle object = py.callRef("object"); RefHandle iterator = py.callRef("iter", List.of(1))) {
            Supplier<String> callback = () -> "x";
            Batch batch = py.batch();
            Promise earlier = batch.call("len", "x");
            List<Object> samples = new ArrayList<>(List.of(PyTuple.of(1), Set.of(1), PyFrozenSet.of(1), new byte[] {1},
                    new double[] {1}, new PyComplex(1, 2), LocalDateTime.of(2026, 1, 1, 0, 0), LocalDate.of(2026, 1, 1),
                    LocalTime.NOON, Double.NaN, Map.of(1, 2), new PyAtom("a"), PyStopIteration.INSTANCE, object, iterator,
                    callback, earlier, java.math.BigDecimal.ONE, java.util.UUID.randomUUID(), java.time.Duration.ofSeconds(1)));
            batch.call("sb_fixtures.echo", samples);
            Set<String> tags = new TreeSet<>();
            JSON.valueToTree(batch.encode()).findValues(ValueCodec.TYPE).forEach(tag -> tags.add(tag.asText()));
            return tags;
        }
    }

    private static final ValueDecoder.Incoming NO_REFS = new ValueDecoder.Incoming() {
        @Override
        public RefHandle ref(JsonNode node) {
            return null;
        }

        @Override
        public byte[] attachment(int index) {
            return new byte[0];
        }

        @Override
        public int maxStringLength() {
            return Integer.MAX_VALUE;
        }
    };
}

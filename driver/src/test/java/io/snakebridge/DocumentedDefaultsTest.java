package io.snakebridge;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The docs state defaults; the code holds them. These tests fail when the two drift apart. */
class DocumentedDefaultsTest {
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final Pattern ROW = Pattern.compile("^\\| `([^`]+)` \\| `([^`]*)` \\|", Pattern.MULTILINE);

    /** {name -> default} from the table between {@code <!-- marker:start -->} and {@code <!-- marker:end -->}. */
    static Map<String, String> table(Path doc, String marker) throws IOException {
        String text = Files.readString(doc);
        int start = text.indexOf("<!-- " + marker + ":start -->");
        int end = text.indexOf("<!-- " + marker + ":end -->");
        assertThat(start).as("%s has a %s table", doc, marker).isNotNegative();
        Map<String, String> rows = new LinkedHashMap<>();
        Matcher m = ROW.matcher(text.substring(start, end));
        while (m.find()) {
            rows.put(m.group(1), m.group(2));
        }
        return rows;
    }

    @Test
    void readmeSettingsTableMatchesEverySettingAndItsDefaultInCode() throws IOException {
        Map<String, String> inCode = Arrays.stream(BridgeSetting.values())
                .collect(Collectors.toMap(BridgeSetting::key, BridgeSetting::defaultText, (a, b) -> a, LinkedHashMap::new));
        assertThat(table(ROOT.resolve("README.md"), "settings")).containsExactlyEntriesOf(inCode);
    }

    @Test
    void everySettingsTypeHoldsItsDefaultAndItsTextReadsBackThroughConfigFrom() {
        BridgeConfig defaults = BridgeConfig.defaults();
        for (BridgeSetting setting : BridgeSetting.values()) {
            String text = setting.valueIn(defaults);
            Object typed = typedValue(setting.type(), text);
            assertThat(setting.valueIn(BridgeSetting.configFrom(Map.of(setting.key(), String.valueOf(typed)))))
                    .as("%s typed as %s", setting.key(), setting.type().getSimpleName()).isEqualTo(text);
        }
        assertThat(BridgeSetting.MAX_REFS.type()).isEqualTo(Integer.class);
        assertThat(BridgeSetting.CALL_TIMEOUT.type()).isEqualTo(java.time.Duration.class);
        assertThat(BridgeSetting.REF_LIMIT_POLICY.type()).isEqualTo(RefLimitPolicy.class);
        assertThat(BridgeSetting.MEMORY_LIMIT_BYTES.type()).isEqualTo(Long.class);
        assertThat(BridgeSetting.ALLOW_MODULES.type()).isEqualTo(String.class);
    }

    /** {@code text} parsed as {@code type} the way a binder that knows only the type would. */
    @SuppressWarnings({"unchecked", "rawtypes"})
    private static Object typedValue(Class<?> type, String text) {
        if (type == Integer.class) {
            return Integer.valueOf(text);
        } else if (type == Long.class) {
            return Long.valueOf(text);
        } else if (type == Boolean.class) {
            return Boolean.valueOf(text);
        } else if (type == java.time.Duration.class) {
            return java.time.Duration.parse(text);
        } else if (type.isEnum()) {
            return Enum.valueOf((Class) type, text);
        }
        assertThat(type).isEqualTo(String.class);
        return text;
    }

    @Test
    void protocolDefaultsTableMatchesTheWorkersDefaultsFile() throws IOException {
        JsonNode defaults;
        try (InputStream in = getClass().getClassLoader().getResourceAsStream("snakebridge_worker/defaults.json")) {
            defaults = new ObjectMapper().readTree(in);
        }
        Map<String, String> inCode = new LinkedHashMap<>();
        defaults.fields().forEachRemaining(e -> {
            if (e.getValue().isValueNode()) {
                inCode.put(e.getKey(), e.getValue().asText());
            }
        });
        assertThat(table(ROOT.resolve("PROTOCOL.md"), "protocol-defaults")).containsExactlyInAnyOrderEntriesOf(inCode);
        Map<String, String> ranges = new LinkedHashMap<>();
        defaults.get("negotiable_limits").fields().forEachRemaining(e ->
                ranges.put(e.getKey(), e.getValue().get(0).asText() + ".." + e.getValue().get(1).asText()));
        assertThat(table(ROOT.resolve("PROTOCOL.md"), "negotiable-limits")).containsExactlyInAnyOrderEntriesOf(ranges);
    }

    @Test
    void aStandaloneWorkerAnnouncesTheDefaultsTheDriverUses() {
        JsonNode announced;
        JsonNode limits;
        try (WorkerConnection py = Workers.connect(Workers.config())) {
            announced = py.hello().get("defaults");
            limits = py.hello().get("limits");
        }
        BridgeConfig d = BridgeConfig.defaults();
        assertThat(announced.get("max_refs").asInt()).isEqualTo(d.maxRefs());
        assertThat(announced.get("ref_limit_policy").asText()).isEqualTo(d.refLimitPolicy().wireName());
        assertThat(announced.get("ref_ttl_seconds").asDouble()).isEqualTo(d.refTtl().toMillis() / 1000.0);
        assertThat(limits.get("max_frame_bytes").asInt()).isEqualTo(Defaults.MAX_FRAME_BYTES);
        assertThat(limits.get("max_nesting_depth").asInt()).isEqualTo(Defaults.MAX_NESTING_DEPTH);
        assertThat(limits.get("max_string_length").asInt()).isEqualTo(d.maxStringLength());
        assertThat(limits.get("max_response_bytes").asLong()).isEqualTo(d.maxResponseBytes());
        assertThat(limits.get("max_response_elements").asInt()).isEqualTo(d.maxResponseElements());
    }
}

package io.snakebridge.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.snakebridge.BridgeConfig;
import io.snakebridge.BridgeSetting;
import io.snakebridge.pool.BridgePoolConfig;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

/**
 * The IDE metadata ({@code META-INF/spring-configuration-metadata.json}) declares exactly the settings the
 * tables hold, with their types, defaults and meanings, and every property it declares reaches the
 * configuration: the tables are the one source of truth, and these tests fail when either side drifts.
 */
class ConfigurationMetadataTest {
    private static final Pattern ROW = Pattern.compile("^\\| `([^`]+)` \\| `([^`]*)` \\| (.*) \\|$", Pattern.MULTILINE);

    /** A README table between its markers: name to {default, meaning}. */
    private static Map<String, String[]> readmeTable(String marker) throws IOException {
        String readme = Files.readString(Path.of("..", "README.md"));
        int start = readme.indexOf("<!-- " + marker + ":start -->");
        assertThat(start).as("README has a %s table", marker).isNotNegative();
        Map<String, String[]> rows = new LinkedHashMap<>();
        Matcher m = ROW.matcher(readme.substring(start, readme.indexOf("<!-- " + marker + ":end -->")));
        while (m.find()) {
            rows.put(m.group(1), new String[] {m.group(2), m.group(3)});
        }
        return rows;
    }

    private static Map<String, JsonNode> metadata() throws IOException {
        try (InputStream in = SnakeBridgeAutoConfiguration.class.getResourceAsStream("/META-INF/spring-configuration-metadata.json")) {
            JsonNode root = new ObjectMapper().readTree(in);
            Map<String, JsonNode> byName = new LinkedHashMap<>();
            root.get("properties").forEach(p -> byName.put(p.get("name").asText(), p));
            return byName;
        }
    }

    /** The default as the tables write it: {@code none} when the metadata has none. */
    private static String defaultText(JsonNode property) {
        return property.has("defaultValue") ? property.get("defaultValue").asText() : "none";
    }

    @Test
    void metadataDeclaresEveryWorkerSettingWithItsTypeDefaultAndMeaning() throws IOException {
        Map<String, JsonNode> metadata = metadata();
        for (BridgeSetting setting : BridgeSetting.values()) {
            String name = SnakeBridgeProperties.propertyName(setting.key());
            assertThat(metadata).as("metadata for %s", setting.key()).containsKey(name);
            JsonNode property = metadata.get(name);
            assertThat(property.get("type").asText()).as(name).isEqualTo(setting.type().getName());
            assertThat(property.get("description").asText()).as(name).isEqualTo(setting.meaning());
            assertThat(defaultText(property)).as(name).isEqualTo(setting.defaultText());
        }
    }

    @Test
    void metadataDeclaresEveryPoolSettingOfTheReadmeTableButTheMeterRegistryBean() throws IOException {
        Map<String, JsonNode> metadata = metadata();
        Map<String, String[]> table = readmeTable("pool-settings");
        assertThat(table.keySet()).containsExactlyInAnyOrderElementsOf(
                concat(Arrays.stream(PoolSetting.values()).map(PoolSetting::key).collect(Collectors.toList()), "metricRegistry"));
        for (PoolSetting setting : PoolSetting.values()) {
            JsonNode property = metadata.get(SnakeBridgeProperties.propertyName(setting.key()));
            assertThat(property).as("metadata for %s", setting.key()).isNotNull();
            assertThat(property.get("type").asText()).isEqualTo(setting.type().getName());
            assertThat(property.get("description").asText()).isEqualTo(table.get(setting.key())[1].replace("`", ""));
            String documented = table.get(setting.key())[0];
            // minimumIdle's default is "the pool size", which metadata cannot state as a value.
            assertThat(defaultText(property)).as(setting.key()).isEqualTo(documented.equals("poolSize") ? "none" : documented);
        }
    }

    private static java.util.List<String> concat(java.util.List<String> list, String last) {
        list.add(last);
        return list;
    }

    @Test
    void metadataDeclaresTheStartersOwnSettingsWithTheirDefaultsInCode() throws IOException {
        Map<String, JsonNode> metadata = metadata();
        Map<String, String[]> table = readmeTable("spring-settings");
        assertThat(table.keySet()).containsExactlyElementsOf(
                Arrays.stream(StarterSetting.values()).map(s -> SnakeBridgeProperties.propertyName(s.key())).collect(Collectors.toList()));
        for (StarterSetting setting : StarterSetting.values()) {
            String name = SnakeBridgeProperties.propertyName(setting.key());
            JsonNode property = metadata.get(name);
            assertThat(property.get("type").asText()).isEqualTo(Duration.class.getName());
            assertThat(property.get("description").asText()).isEqualTo(setting.meaning());
            assertThat(Duration.parse(defaultText(property))).isEqualTo(setting.defaultValue());
            assertThat(table.get(name)[0]).as("README").isEqualTo(setting.defaultValue().toString());
            assertThat(table.get(name)[1]).as("README").isEqualTo(setting.meaning());
        }
    }

    @Test
    void metadataDeclaresNoPropertyTheStarterDoesNotBind() throws IOException {
        Set<String> bound = new TreeSet<>();
        Arrays.stream(BridgeSetting.values()).forEach(s -> bound.add(SnakeBridgeProperties.propertyName(s.key())));
        Arrays.stream(PoolSetting.values()).forEach(s -> bound.add(SnakeBridgeProperties.propertyName(s.key())));
        Arrays.stream(StarterSetting.values()).forEach(s -> bound.add(SnakeBridgeProperties.propertyName(s.key())));
        assertThat(new TreeSet<>(metadata().keySet())).isEqualTo(bound);
    }

    /** A value other than the default, written as a Spring user would, and what the configuration then says. */
    private static String[] sample(String key, String type, String defaultText) {
        switch (key) {
            case "workerEnvironment": return new String[] {"OMP_NUM_THREADS=1", "OMP_NUM_THREADS=1"};
            case "pythonPath": return new String[] {"/opt/app/python", "/opt/app/python"};
            case "minimumIdle": return new String[] {"2", "2"};
            case "hosts": return new String[] {"py1.internal:7171,[::1]:7000", "py1.internal:7171,[::1]:7000"};
            case "sslRootCert":
            case "sslCert":
            case "sslKey":
            case "tokenFile": return new String[] {"/etc/snakebridge/" + key + ".pem", "/etc/snakebridge/" + key + ".pem"};
            default: break;
        }
        switch (type) {
            case "java.lang.Integer":
            case "java.lang.Long": { // half the default, or one past it: within every setting's range
                long d = Long.parseLong(defaultText);
                String other = String.valueOf(d > 1 ? d / 2 : d + 1);
                return new String[] {other, other};
            }
            case "java.lang.Boolean": return new String[] {String.valueOf(!Boolean.parseBoolean(defaultText)), String.valueOf(!Boolean.parseBoolean(defaultText))};
            case "java.time.Duration": return new String[] {"7s", "PT7S"}; // Spring's simple format, as users write it
            case "java.lang.String": return new String[] {"math,json", "math,json"};
            default: // an enum: another constant, in Spring's relaxed kebab case
                try {
                    Object other = Arrays.stream(Class.forName(type).getEnumConstants()).filter(c -> !c.toString().equals(defaultText))
                            .findFirst().orElseThrow();
                    String name = ((Enum<?>) other).name();
                    return new String[] {name.toLowerCase(Locale.ROOT).replace('_', '-'), name};
                } catch (ClassNotFoundException e) {
                    throw new AssertionError("metadata names an unknown type " + type, e);
                }
        }
    }

    /** Properties that are only valid with another: a client certificate and its key. */
    private static final Map<String, String> COMPANIONS = Map.of("snakebridge.ssl-cert", "snakebridge.ssl-key",
            "snakebridge.ssl-key", "snakebridge.ssl-cert");

    @Test
    void everyDeclaredPropertyReachesTheConfigurationAlone() throws Exception {
        for (JsonNode property : metadata().values()) {
            String name = property.get("name").asText();
            String key = Arrays.stream(name.substring("snakebridge.".length()).split("-"))
                    .reduce((a, b) -> a + Character.toUpperCase(b.charAt(0)) + b.substring(1)).orElseThrow();
            String[] sample = sample(key, property.get("type").asText(), defaultText(property));
            Map<String, String> set = new HashMap<>(Map.of(name, sample[0]));
            COMPANIONS.forEach((needs, companion) -> {
                if (name.equals(needs)) {
                    set.put(companion, "/etc/snakebridge/companion.pem");
                }
            });
            SnakeBridgeProperties properties = new SnakeBridgeProperties(new Binder(new MapConfigurationPropertySource(set)));
            BridgeConfig workers = properties.workers().build();
            BridgePoolConfig pool = properties.pool().build();
            String reached;
            if (BridgeSetting.byKey(key).isPresent()) {
                reached = BridgeSetting.byKey(key).get().valueIn(workers);
            } else if (Arrays.stream(PoolSetting.values()).anyMatch(s -> s.key().equals(key))) {
                reached = String.valueOf(BridgePoolConfig.class.getMethod(key).invoke(pool));
            } else {
                reached = properties.duration(Arrays.stream(StarterSetting.values()).filter(s -> s.key().equals(key)).findFirst().orElseThrow())
                        .toString();
            }
            assertThat(reached).as("%s=%s", name, sample[0]).isEqualTo(sample[1]);
        }
    }

    @Test
    void aBadValueFailsNamingTheProperty() {
        SnakeBridgeProperties maxRefs = new SnakeBridgeProperties(new Binder(new MapConfigurationPropertySource(Map.of("snakebridge.max-refs", "0"))));
        assertThatThrownBy(maxRefs::workers).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("snakebridge.max-refs");
        SnakeBridgeProperties poolSize = new SnakeBridgeProperties(new Binder(new MapConfigurationPropertySource(Map.of("snakebridge.pool-size", "0"))));
        assertThatThrownBy(poolSize::pool).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("snakebridge.pool-size");
        SnakeBridgeProperties health = new SnakeBridgeProperties(new Binder(new MapConfigurationPropertySource(Map.of("snakebridge.health-timeout", "0s"))));
        assertThatThrownBy(() -> health.duration(StarterSetting.HEALTH_TIMEOUT)).hasMessageContaining("snakebridge.health-timeout");
        SnakeBridgeProperties certWithoutKey = new SnakeBridgeProperties(new Binder(new MapConfigurationPropertySource(
                Map.of("snakebridge.ssl-cert", "/etc/snakebridge/client.pem"))));
        assertThatThrownBy(certWithoutKey::workers).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("snakebridge.*").hasMessageContaining("sslCert and sslKey go together");
    }
}

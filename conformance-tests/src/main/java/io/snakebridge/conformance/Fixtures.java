package io.snakebridge.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/** The language-neutral codec fixtures ({@code fixtures/values.json} in this jar). */
public final class Fixtures {
    public record Case(String name, List<String> rules, JsonNode wire, JsonNode expected) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static final JsonNode ALL = load();

    private Fixtures() {
    }

    public static List<Case> roundTrip(String rule) {
        return select("round_trip", "python_repr", rule);
    }

    public static List<Case> invalid(String rule) {
        return select("invalid", "code", rule);
    }

    private static List<Case> select(String section, String expectedField, String rule) {
        List<Case> cases = new ArrayList<>();
        for (JsonNode c : ALL.get(section)) {
            List<String> rules = new ArrayList<>();
            c.get("rules").forEach(r -> rules.add(r.asText()));
            if (rules.contains(rule)) {
                cases.add(new Case(c.get("name").asText(), rules, c.get("wire"), c.get(expectedField)));
            }
        }
        return cases;
    }

    private static JsonNode load() {
        try (InputStream in = Fixtures.class.getClassLoader().getResourceAsStream("fixtures/values.json")) {
            return ProtocolClient.JSON.readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

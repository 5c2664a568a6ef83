package io.snakebridge.conformance;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The rules of PROTOCOL.md (bundled in this jar): ID, tier and the capability an optional rule needs. */
public final class Rules {
    /** {@code - **FRAME-3** *(optional, capability `cancel`)*}. */
    private static final Pattern RULE = Pattern.compile(
            "^- \\*\\*([A-Z]+(?:-[A-Z]+)?-\\d+)\\*\\* \\*\\((required|optional|client)(?:, capability `([a-z_]+)`)?\\)\\*", Pattern.MULTILINE);

    public enum Tier { REQUIRED, OPTIONAL, CLIENT }

    public record Rule(String id, Tier tier, Optional<String> capability) {
    }

    private static final List<Rule> ALL = parse(load());

    private Rules() {
    }

    public static List<Rule> all() {
        return ALL;
    }

    public static Optional<Rule> byId(String id) {
        return ALL.stream().filter(r -> r.id().equals(id)).findFirst();
    }

    static List<Rule> parse(String protocol) {
        List<Rule> rules = new ArrayList<>();
        Matcher m = RULE.matcher(protocol);
        while (m.find()) {
            rules.add(new Rule(m.group(1), Tier.valueOf(m.group(2).toUpperCase(java.util.Locale.ROOT)), Optional.ofNullable(m.group(3))));
        }
        return List.copyOf(rules);
    }

    private static String load() {
        try (InputStream in = Rules.class.getClassLoader().getResourceAsStream("PROTOCOL.md")) {
            if (in == null) {
                throw new IllegalStateException("PROTOCOL.md is missing from the conformance jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

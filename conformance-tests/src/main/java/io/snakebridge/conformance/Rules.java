package io.snakebridge.conformance;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The rules of PROTOCOL.md (bundled in this jar): ID, tier and the capability a capability rule needs. */
public final class Rules {
    /** A rule's first line: {@code - **REF-6** *(required with capability `ref_ttl`)*}. */
    private static final Pattern RULE_LINE = Pattern.compile("^- \\*\\*([A-Z]+(?:-[A-Z]+)?-\\d+)\\*\\* \\*\\(([^)]*)\\)\\*", Pattern.MULTILINE);
    private static final Pattern CAPABILITY = Pattern.compile("required with capability `([a-z_]+)`");
    /**
     * The worker server's rules (SRV-*, REMOTE-*) and those of its remote clients: no runner checks
     * them, so they are not rules of a worker run.
     */
    private static final Set<String> SERVER = Set.of("optional, server", "optional, server client");
    private static final Pattern VERSION = Pattern.compile("^# SnakeBridge wire protocol, version (\\d+)$", Pattern.MULTILINE);

    /** How a rule binds a worker; see PROTOCOL.md's preamble. */
    public enum Tier {
        /** Binds every worker: one failing means the worker does not conform. */
        REQUIRED,
        /** Binds a worker that declares the rule's capability (HS-4) exactly as a required rule; skipped for one that does not. */
        CAPABILITY,
        /** SHOULD/MAY: failing is reported and does not fail the run. */
        OPTIONAL,
        /** Binds clients (drivers and pools): checked by the contracts, not by a worker run. */
        CLIENT
    }

    /**
     * One rule of PROTOCOL.md.
     *
     * @param id         the rule ID, e.g. {@code REF-6}
     * @param tier       how it binds a worker
     * @param capability the capability a {@link Tier#CAPABILITY} rule needs; empty for the other tiers
     */
    public record Rule(String id, Tier tier, Optional<String> capability) {
        /** The rule's family: its ID without the number ({@code REF} of {@code REF-6}, {@code OP-CALL} of {@code OP-CALL-1}). */
        public String family() {
            return id.substring(0, id.lastIndexOf('-'));
        }
    }

    private static final String PROTOCOL = load();
    private static final List<Rule> ALL = parse(PROTOCOL);
    private static final int PROTOCOL_VERSION = protocolVersion(PROTOCOL);

    private Rules() {
    }

    /** Every rule of PROTOCOL.md, in its order. */
    public static List<Rule> all() {
        return ALL;
    }

    /** The rule with this ID, if PROTOCOL.md defines one. */
    public static Optional<Rule> byId(String id) {
        return ALL.stream().filter(r -> r.id().equals(id)).findFirst();
    }

    /** The protocol version PROTOCOL.md describes (its title's "version N"): what a passing run certifies. */
    public static int protocolVersion() {
        return PROTOCOL_VERSION;
    }

    /**
     * The rules of a PROTOCOL.md text. A rule whose tier marker is none of {@code (required)},
     * {@code (required with capability `x`)}, {@code (optional)}, {@code (client)} (or the server's
     * {@code (optional, server)} and {@code (optional, server client)}) is an error, never a rule silently left out of every verdict.
     */
    static List<Rule> parse(String protocol) {
        List<Rule> rules = new ArrayList<>();
        Matcher m = RULE_LINE.matcher(protocol);
        while (m.find()) {
            String id = m.group(1);
            String marker = m.group(2);
            Matcher capability = CAPABILITY.matcher(marker);
            if (capability.matches()) {
                rules.add(new Rule(id, Tier.CAPABILITY, Optional.of(capability.group(1))));
            } else if (marker.equals("required") || marker.equals("optional") || marker.equals("client")) {
                rules.add(new Rule(id, Tier.valueOf(marker.toUpperCase(Locale.ROOT)), Optional.empty()));
            } else if (!SERVER.contains(marker)) {
                throw new IllegalStateException("PROTOCOL.md rule " + id + " has the tier marker (" + marker + "); a rule is (required), "
                        + "(required with capability `x`), (optional) or (client)");
            }
        }
        return List.copyOf(rules);
    }

    static int protocolVersion(String protocol) {
        Matcher m = VERSION.matcher(protocol);
        if (!m.find()) {
            throw new IllegalStateException("PROTOCOL.md's title does not name its version (# SnakeBridge wire protocol, version N)");
        }
        return Integer.parseInt(m.group(1));
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

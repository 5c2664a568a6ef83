package io.snakebridge.conformance;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.support.descriptor.MethodSource;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;

/** Collects pass/fail/skip per rule ID from the tests' {@link Requirement}s, and writes the summaries. */
public final class RuleReport implements TestExecutionListener {
    public enum Status { PASS, FAIL, SKIP, UNTESTED }

    private static final class Tally {
        int passed;
        int failed;
        int skipped;
        final List<String> failures = new ArrayList<>();
    }

    private final Map<String, Tally> tallies = new LinkedHashMap<>();
    private final String worker;

    RuleReport(String worker) {
        this.worker = worker;
        Rules.all().forEach(rule -> tallies.put(rule.id(), new Tally()));
    }

    @Override
    public void executionFinished(TestIdentifier test, TestExecutionResult result) {
        if (!test.isTest()) {
            return;
        }
        for (String rule : rulesOf(test)) {
            Tally tally = tallies.computeIfAbsent(rule, r -> new Tally());
            switch (result.getStatus()) {
                case SUCCESSFUL: tally.passed++; break;
                case ABORTED: tally.skipped++; break;
                default:
                    tally.failed++;
                    tally.failures.add(test.getDisplayName() + ": " + result.getThrowable().map(t -> firstLine(t.getMessage())).orElse("failed"));
            }
        }
    }

    @Override
    public void executionSkipped(TestIdentifier test, String reason) {
        for (String rule : rulesOf(test)) {
            tallies.computeIfAbsent(rule, r -> new Tally()).skipped++;
        }
    }

    static Set<String> rulesOf(TestIdentifier test) {
        Set<String> rules = new TreeSet<>();
        test.getSource().filter(MethodSource.class::isInstance).map(MethodSource.class::cast).ifPresent(source -> {
            Method method = source.getJavaMethod();
            Requirement requirement = method.getAnnotation(Requirement.class);
            if (requirement != null) {
                rules.addAll(List.of(requirement.value()));
            }
        });
        return rules;
    }

    public Status status(String rule) {
        Tally t = tallies.get(rule);
        if (t == null || t.passed + t.failed + t.skipped == 0) {
            return Status.UNTESTED;
        }
        return t.failed > 0 ? Status.FAIL : t.passed > 0 ? Status.PASS : Status.SKIP;
    }

    /** Rule IDs with the given status. */
    public Set<String> rules(Status status) {
        Set<String> ids = new TreeSet<>();
        tallies.keySet().stream().filter(id -> status(id) == status).forEach(ids::add);
        return ids;
    }

    /** Required rules that failed: the worker does not conform. */
    public Set<String> requiredFailures() {
        Set<String> ids = new TreeSet<>();
        for (Rules.Rule rule : Rules.all()) {
            if (rule.tier() == Rules.Tier.REQUIRED && status(rule.id()) == Status.FAIL) {
                ids.add(rule.id());
            }
        }
        return ids;
    }

    void write(Path dir) throws IOException {
        Files.createDirectories(dir);
        ObjectNode json = ProtocolClient.JSON.createObjectNode();
        json.put("worker", worker);
        json.put("conforms", requiredFailures().isEmpty());
        ArrayNode rules = json.putArray("rules");
        StringBuilder md = new StringBuilder("# SnakeBridge conformance report\n\nWorker: `").append(worker).append("`\n\n")
                .append(requiredFailures().isEmpty() ? "**Conforms**: every required rule passes.\n\n"
                        : "**Does not conform**: required rules fail: " + String.join(", ", requiredFailures()) + "\n\n")
                .append("| rule | tier | status | tests passed / failed / skipped | first failure |\n|---|---|---|---|---|\n");
        for (Rules.Rule rule : Rules.all()) {
            Tally t = tallies.get(rule.id());
            String tier = rule.tier().name().toLowerCase(java.util.Locale.ROOT) + rule.capability().map(c -> " (" + c + ")").orElse("");
            ObjectNode r = rules.addObject().put("id", rule.id()).put("tier", tier).put("status", status(rule.id()).name())
                    .put("passed", t.passed).put("failed", t.failed).put("skipped", t.skipped);
            t.failures.forEach(r.putArray("failures")::add);
            md.append("| ").append(rule.id()).append(" | ").append(tier).append(" | ").append(status(rule.id())).append(" | ")
                    .append(t.passed).append(" / ").append(t.failed).append(" / ").append(t.skipped).append(" | ")
                    .append(t.failures.isEmpty() ? "" : t.failures.get(0).replace("|", "\\|")).append(" |\n");
        }
        Files.writeString(dir.resolve("summary.md"), md, StandardCharsets.UTF_8);
        ProtocolClient.JSON.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("summary.json").toFile(), json);
    }

    String oneLine() {
        return String.format("%d rules: %d pass, %d fail (%d required), %d skipped, %d untested", Rules.all().size(),
                rules(Status.PASS).size(), rules(Status.FAIL).size(), requiredFailures().size(), rules(Status.SKIP).size(),
                rules(Status.UNTESTED).size());
    }

    private static String firstLine(String message) {
        if (message == null) {
            return "failed";
        }
        String trimmed = message.strip();
        int nl = trimmed.indexOf('\n');
        return nl < 0 ? trimmed : trimmed.substring(0, nl) + " ...";
    }
}

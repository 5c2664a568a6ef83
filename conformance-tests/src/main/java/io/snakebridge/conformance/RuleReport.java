package io.snakebridge.conformance;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.support.descriptor.MethodSource;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.TestPlan;

/**
 * Collects pass/fail/skip per rule ID from the tests' {@link Requirement}s, reaches the verdict and
 * writes the summaries. The verdict: a worker conforms when no rule that binds it fails. Required
 * rules bind every worker; a capability rule binds a worker that declares the capability (its tests
 * are skipped for one that does not, so it cannot fail there); optional (SHOULD/MAY) rules bind none.
 */
public final class RuleReport implements TestExecutionListener {
    /** A rule's outcome in one run. */
    public enum Status { PASS, FAIL, SKIP, NOT_APPLICABLE, UNTESTED }

    /**
     * How a test says its rule cannot be checked on this target (the start of its abort message): a
     * rule about a process of this machine, run against a remote server's worker. Such a rule is
     * {@link Status#NOT_APPLICABLE}, listed with the reason, and certified by nothing in the run.
     */
    public static final String NOT_APPLICABLE = "not applicable to a remote worker: ";

    private static final class Tally {
        int passed;
        int failed;
        int skipped;
        int notApplicable;
        final List<String> failures = new ArrayList<>();
        final Set<String> whyNotApplicable = new LinkedHashSet<>();
    }

    private final Map<String, Tally> tallies = new LinkedHashMap<>();
    private final Set<String> reported = new HashSet<>();
    private final String worker;
    private final WorkerProbe probe;
    private final Set<String> scope;
    private TestPlan plan;

    /**
     * @param worker how the worker under test was started (for the report)
     * @param probe  what the worker declared at a handshake of its own
     * @param scope  the rule families the run was limited to (the suite's own tests); empty: every rule
     */
    RuleReport(String worker, WorkerProbe probe, Set<String> scope) {
        this.worker = worker;
        this.probe = probe;
        this.scope = Set.copyOf(scope);
        Rules.all().forEach(rule -> tallies.put(rule.id(), new Tally()));
    }

    @Override
    public void testPlanExecutionStarted(TestPlan testPlan) {
        this.plan = testPlan;
    }

    @Override
    public void executionFinished(TestIdentifier test, TestExecutionResult result) {
        if (test.isTest()) {
            record(test, result.getStatus(), result.getThrowable().map(t -> firstLine(t.getMessage())).orElse("failed"));
            return;
        }
        // A class whose worker never started (@BeforeAll failed) runs none of its tests, and JUnit reports
        // none of them: without this, their rules would be UNTESTED and a worker that cannot start would conform.
        if (result.getStatus() != TestExecutionResult.Status.SUCCESSFUL && plan != null) {
            String why = "not run: " + test.getDisplayName() + " failed: "
                    + result.getThrowable().map(t -> firstLine(t.getMessage())).orElse("aborted");
            plan.getDescendants(test).stream().filter(TestIdentifier::isTest).filter(t -> !reported.contains(t.getUniqueId()))
                    .forEach(t -> record(t, result.getStatus(), why));
        }
    }

    @Override
    public void executionSkipped(TestIdentifier test, String reason) {
        List<TestIdentifier> skipped = test.isTest() || plan == null ? List.of(test)
                : plan.getDescendants(test).stream().filter(TestIdentifier::isTest).toList();
        skipped.forEach(t -> record(t, TestExecutionResult.Status.ABORTED, reason));
    }

    private void record(TestIdentifier test, TestExecutionResult.Status status, String message) {
        reported.add(test.getUniqueId());
        for (String rule : rulesOf(test)) {
            Tally tally = tallies.computeIfAbsent(rule, r -> new Tally());
            int marker = message == null ? -1 : message.indexOf(NOT_APPLICABLE);
            if (status == TestExecutionResult.Status.ABORTED && marker >= 0) {
                tally.notApplicable++;
                tally.whyNotApplicable.add(message.substring(marker + NOT_APPLICABLE.length()));
                continue;
            }
            switch (status) {
                case SUCCESSFUL: tally.passed++; break;
                case ABORTED: tally.skipped++; break;
                default:
                    tally.failed++;
                    tally.failures.add(test.getDisplayName() + ": " + message);
            }
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

    /**
     * The outcome of {@code rule}: FAIL if any test citing it failed, PASS if one passed and none
     * failed, NOT_APPLICABLE if none ran because the target is a remote worker, SKIP if all were skipped.
     */
    public Status status(String rule) {
        Tally t = tallies.get(rule);
        if (t == null || t.passed + t.failed + t.skipped + t.notApplicable == 0) {
            return Status.UNTESTED;
        }
        return t.failed > 0 ? Status.FAIL : t.passed > 0 ? Status.PASS : t.notApplicable > 0 ? Status.NOT_APPLICABLE : Status.SKIP;
    }

    /** Why {@code rule}'s tests could not run on this target (empty unless it is {@link Status#NOT_APPLICABLE} in part or whole). */
    public Set<String> whyNotApplicable(String rule) {
        Tally t = tallies.get(rule);
        return t == null ? Set.of() : Set.copyOf(t.whyNotApplicable);
    }

    /** Rule IDs with the given status. */
    public Set<String> rules(Status status) {
        Set<String> ids = new TreeSet<>();
        tallies.keySet().stream().filter(id -> status(id) == status).forEach(ids::add);
        return ids;
    }

    /** Failing capability rules: the worker declares the capability and breaks it. The first reason it does not conform. */
    public Set<String> declaredAndFailing() {
        return failing(Rules.Tier.CAPABILITY);
    }

    /** Failing required rules. */
    public Set<String> requiredFailures() {
        return failing(Rules.Tier.REQUIRED);
    }

    /** Failing optional (SHOULD/MAY) rules: reported, not held against the worker. */
    public Set<String> optionalFailures() {
        return failing(Rules.Tier.OPTIONAL);
    }

    /** Required rules that no test checked in a run of the whole suite: nothing can be certified without them. */
    public Set<String> requiredUnchecked() {
        Set<String> ids = new TreeSet<>();
        if (scope.isEmpty()) {
            Rules.all().stream().filter(r -> r.tier() == Rules.Tier.REQUIRED && status(r.id()) == Status.UNTESTED).forEach(r -> ids.add(r.id()));
        }
        return ids;
    }

    private Set<String> failing(Rules.Tier tier) {
        Set<String> ids = new LinkedHashSet<>();
        Rules.all().stream().filter(r -> r.tier() == tier && status(r.id()) == Status.FAIL).forEach(r -> ids.add(r.id()));
        return ids;
    }

    /** The rules that bind this worker and fail: declared-and-failing capability rules first, then required ones. */
    public Set<String> bindingFailures() {
        Set<String> ids = new LinkedHashSet<>(declaredAndFailing());
        ids.addAll(requiredFailures());
        return ids;
    }

    /** The verdict: the worker completed a handshake, every required rule was checked, and no rule that binds it fails. */
    public boolean conforms() {
        return probe.failure() == null && bindingFailures().isEmpty() && requiredUnchecked().isEmpty();
    }

    /** The runner's exit status for this verdict: 0 when the worker conforms, 1 when it does not. */
    public int exitStatus() {
        return conforms() ? 0 : 1;
    }

    void write(Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("summary.md"), markdown(), StandardCharsets.UTF_8);
        ProtocolClient.JSON.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("summary.json").toFile(), json());
    }

    private ObjectNode json() {
        ObjectNode json = ProtocolClient.JSON.createObjectNode();
        json.put("worker", worker);
        json.put("protocol_version", Rules.protocolVersion());
        json.put("suite_version", SuiteVersion.get());
        if (!scope.isEmpty()) {
            scope.stream().sorted().forEach(json.putArray("scope")::add);
        }
        json.put("conforms", conforms());
        json.put("verdict_rule", VERDICT_RULE);
        if (probe.failure() != null) {
            json.put("handshake_failure", probe.failure());
        } else {
            json.put("agreed_protocol_version", probe.agreedVersion());
            probe.capabilities().forEach(json.putArray("declared_capabilities")::add);
        }
        declaredAndFailing().forEach(json.putArray("declared_and_failing")::add);
        requiredFailures().forEach(json.putArray("required_and_failing")::add);
        requiredUnchecked().forEach(json.putArray("required_unchecked")::add);
        optionalFailures().forEach(json.putArray("optional_and_failing")::add);
        rules(Status.NOT_APPLICABLE).forEach(json.putArray("not_applicable")::add);
        ArrayNode rules = json.putArray("rules");
        for (Rules.Rule rule : Rules.all()) {
            Tally t = tallies.get(rule.id());
            ObjectNode r = rules.addObject().put("id", rule.id()).put("tier", rule.tier().name().toLowerCase(Locale.ROOT));
            rule.capability().ifPresent(c -> r.put("capability", c).put("declared", probe.capabilities().contains(c)));
            r.put("status", status(rule.id()).name()).put("passed", t.passed).put("failed", t.failed).put("skipped", t.skipped);
            if (t.notApplicable > 0) {
                r.put("not_applicable", t.notApplicable);
                t.whyNotApplicable.forEach(r.putArray("why_not_applicable")::add);
            }
            t.failures.forEach(r.putArray("failures")::add);
        }
        return json;
    }

    static final String VERDICT_RULE = "A worker conforms when no rule that binds it fails: a required rule binds every worker; "
            + "a rule required with capability x binds a worker that declares x in its handshake (HS-4), exactly as a required rule, "
            + "and is skipped for one that does not; an optional rule (SHOULD/MAY) binds none, and failing it is only reported.";

    private String markdown() {
        StringBuilder md = new StringBuilder("# SnakeBridge conformance report\n\n")
                .append("- Worker: `").append(worker).append("`\n")
                .append("- Protocol: PROTOCOL.md version ").append(Rules.protocolVersion())
                .append(probe.failure() == null ? " (the worker agreed version " + probe.agreedVersion() + " at its handshake)" : "").append('\n')
                .append("- Suite: snakebridge-conformance ").append(SuiteVersion.get()).append('\n')
                .append("- Capabilities the worker declares: ")
                .append(probe.failure() != null ? "unknown, the handshake failed: " + probe.failure()
                        : probe.capabilities().isEmpty() ? "none" : String.join(", ", probe.capabilities())).append('\n');
        if (!scope.isEmpty()) {
            md.append("- Scope: only the rule families ").append(String.join(", ", new TreeSet<>(scope)))
                    .append(" (a partial run, for the suite's own tests: it certifies nothing)\n");
        }
        md.append('\n').append(conforms() ? "**Conforms**: no rule that binds this worker fails.\n\n" : "**Does not conform**: " + reasons() + "\n\n")
                .append(VERDICT_RULE).append("\n\n");
        section(md, "Declared and failing", "Rules of capabilities the worker declares, and breaks: a client that trusts its handshake "
                + "relies on them.", declaredAndFailing());
        section(md, "Required and failing", "Rules every worker must pass.", requiredFailures());
        section(md, "Optional and failing", "SHOULD/MAY rules: reported, they do not fail the run.", optionalFailures());
        Set<String> notApplicable = rules(Status.NOT_APPLICABLE);
        if (!notApplicable.isEmpty()) {
            md.append("## Not applicable to a remote worker\n\nRules about a process of this machine that the suite starts: no test of "
                    + "theirs ran against the remote server's worker, so this run certifies nothing about them (run the suite against the "
                    + "worker command for those).\n\n| rule | tier | why |\n|---|---|---|\n");
            for (String id : notApplicable) {
                md.append("| ").append(id).append(" | ").append(tierCell(Rules.byId(id).orElseThrow())).append(" | ")
                        .append(String.join("; ", tallies.get(id).whyNotApplicable).replace("|", "\\|")).append(" |\n");
            }
            md.append('\n');
        }
        md.append("## Every rule\n\n| rule | tier | status | tests passed / failed / skipped | first failure |\n|---|---|---|---|---|\n");
        for (Rules.Rule rule : Rules.all()) {
            Tally t = tallies.get(rule.id());
            md.append("| ").append(rule.id()).append(" | ").append(tierCell(rule)).append(" | ").append(status(rule.id())).append(" | ")
                    .append(t.passed).append(" / ").append(t.failed).append(" / ").append(t.skipped).append(" | ")
                    .append(firstFailure(rule.id())).append(" |\n");
        }
        return md.toString();
    }

    private String reasons() {
        List<String> reasons = new ArrayList<>();
        if (probe.failure() != null) {
            reasons.add("the worker did not complete a handshake");
        }
        if (!declaredAndFailing().isEmpty()) {
            reasons.add("rules of declared capabilities fail: " + String.join(", ", declaredAndFailing()));
        }
        if (!requiredFailures().isEmpty()) {
            reasons.add("required rules fail: " + String.join(", ", requiredFailures()));
        }
        if (!requiredUnchecked().isEmpty()) {
            reasons.add("required rules were not checked: " + String.join(", ", requiredUnchecked()));
        }
        return String.join("; ", reasons) + ".";
    }

    private void section(StringBuilder md, String title, String meaning, Set<String> ids) {
        if (ids.isEmpty()) {
            return;
        }
        md.append("## ").append(title).append("\n\n").append(meaning).append("\n\n| rule | tier | first failure |\n|---|---|---|\n");
        for (String id : ids) {
            md.append("| ").append(id).append(" | ").append(tierCell(Rules.byId(id).orElseThrow())).append(" | ").append(firstFailure(id)).append(" |\n");
        }
        md.append('\n');
    }

    private String tierCell(Rules.Rule rule) {
        return rule.capability().map(c -> "capability `" + c + "` (" + (probe.capabilities().contains(c) ? "declared" : "not declared") + ")")
                .orElse(rule.tier().name().toLowerCase(Locale.ROOT));
    }

    /** The first failure's message for a table cell: one line, at most 300 characters (summary.json has them whole). */
    private String firstFailure(String rule) {
        List<String> failures = tallies.get(rule).failures;
        if (failures.isEmpty()) {
            return "";
        }
        String first = failures.get(0);
        return (first.length() > 300 ? first.substring(0, 300) + " ..." : first).replace("|", "\\|");
    }

    String oneLine() {
        return String.format("%s: %d rules: %d pass, %d fail (%d declared-capability, %d required, %d optional), %d skipped, "
                + "%d not applicable, %d untested",
                conforms() ? "Conforms" : "Does not conform", Rules.all().size(), rules(Status.PASS).size(), rules(Status.FAIL).size(),
                declaredAndFailing().size(), requiredFailures().size(), optionalFailures().size(), rules(Status.SKIP).size(),
                rules(Status.NOT_APPLICABLE).size(), rules(Status.UNTESTED).size());
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

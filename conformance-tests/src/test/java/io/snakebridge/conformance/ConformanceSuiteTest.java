package io.snakebridge.conformance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectPackage;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.platform.launcher.TestPlan;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import picocli.CommandLine;

/**
 * The suite's verdict can be trusted: our worker conforms, and each broken worker fails exactly the
 * rules it breaks and gets the verdict their tiers call for (exit status and {@code conforms}).
 */
class ConformanceSuiteTest {
    private static final String PYTHON = System.getProperty("snakebridge.python", "python3");
    private static final String WORKER_SOURCE = System.getProperty("snakebridge.worker.source");
    private static final Path BROKEN_WORKER = Path.of("src/test/python/broken_worker.py").toAbsolutePath();
    private static final Path WITHOUT_NUMPY = Path.of("src/test/python/without_numpy_worker.py").toAbsolutePath();
    /** The worker's sources, without bytecode written next to them (a later package would put it in the worker's jar). */
    private static final Map<String, String> ENV = Map.of("PYTHONPATH", WORKER_SOURCE, "PYTHONDONTWRITEBYTECODE", "1");

    /** Rule families whose every worker rule must be proved by a broken worker the suite catches: the ref lifecycle, and what rides on it. */
    private static final Set<String> PROVED_FAMILIES = Set.of("SES", "REF", "POL", "CANCEL", "CB", "BATCH");

    /**
     * What a broken worker's run checks besides the families of the rules it breaks: the handshake
     * tests, a smoke of a worker that starts, handshakes, calls and adopts limits. Why such a scoped
     * run is sound: every broken worker is the reference worker, which passes the whole suite (the
     * first tests below), with one behaviour patched; the tests of the families that behaviour belongs
     * to show that it fails there and that the rest of those families still holds, and the smoke that
     * the patch did not break the worker as a whole. A run of the whole suite takes about 10 s on an
     * idle machine (25 s on a busy one), so one per broken worker would add 5 minutes to every build;
     * a scoped run takes a third of that or less. The whole suite still runs, through the command
     * line, for one broken worker ({@code ttl_never_expires}): a defect there fails nothing else.
     */
    private static final Set<String> SMOKE = Set.of("HS");

    /** A broken worker of broken_worker.py, the rules it fails and the exit status the runner must give it. */
    record BrokenWorker(String defect, int exitStatus, Set<String> fails) {
        Set<String> scope() {
            Set<String> families = new TreeSet<>(SMOKE);
            fails.forEach(rule -> families.add(Rules.byId(rule).orElseThrow().family()));
            return families;
        }
    }

    private static BrokenWorker rejected(String defect, String... fails) {
        return new BrokenWorker(defect, 1, Set.of(fails));
    }

    private static BrokenWorker conformsYet(String defect, String... optionalFails) {
        return new BrokenWorker(defect, 0, Set.of(optionalFails));
    }

    static final List<BrokenWorker> BROKEN_WORKERS = List.of(
            rejected("release_session_by_prefix", "SES-3"),
            rejected("bare_key_error", "ERR-1", "ERR-2", "REF-4", "REF-5", "REF-6", "REF-8", "SES-3", "SES-6", "PREP-1"),
            rejected("ttl_never_expires", "REF-6"),
            rejected("top_level_int_as_float", "VAL-INT-1", "BATCH-1"),
            rejected("print_corrupts_protocol", "FRAME-6"),
            rejected("refs_visible_across_sessions", "REF-2", "PREP-2"),
            rejected("ignores_response_caps", "RESP-1", "RESP-2", "RESP-3"),
            rejected("counter_ref_ids", "REF-1"),
            conformsYet("scanning_eviction", "REF-7"),
            rejected("undeclared_callbacks_accepted", "HS-4"),
            conformsYet("no_parent_death_signal", "FRAME-7"),
            rejected("session_info_creates_session", "SES-1"),
            rejected("unknown_limits_ignored", "SES-2"),
            rejected("worker_live_refs_per_session", "SES-4"),
            rejected("reset_forgets_limits", "SES-6"),
            rejected("reset_drops_policy", "POL-1"),
            rejected("private_names_under_policy", "POL-2"),
            rejected("policy_judges_by_name", "POL-1", "POL-3"),
            rejected("modules_mutable_under_policy", "POL-4"),
            rejected("one_invalid_ref_reason", "REF-3"),
            rejected("never_issued_ids_called_released", "REF-4"),
            rejected("ref_limit_policy_ignored", "REF-5"),
            rejected("worker_id_ignored", "REF-8"),
            rejected("cancel_answered_as_python_exception", "CANCEL-1", "CANCEL-3", "CB-5"),
            rejected("cancel_drops_session", "CANCEL-1"),
            rejected("cancel_word_ignored", "CANCEL-3"),
            rejected("cancel_word_left_visible", "CANCEL-2"),
            rejected("callback_arity_unchecked", "CB-1"),
            rejected("callbacks_not_reentrant", "CB-2"),
            rejected("callback_error_id_dropped", "CB-3"),
            rejected("callbacks_outlive_request", "CB-4"),
            rejected("exported_callbacks_die_with_request", "CB-6"),
            rejected("sigint_during_callback_lost", "CB-5"),
            rejected("batch_fails_whole_for_a_bad_op", "BATCH-1"),
            rejected("failed_promise_passed_as_none", "BATCH-2"),
            rejected("want_none_makes_a_ref", "BATCH-3"));

    @TempDir
    Path reports;

    private static Set<String> workerRules() {
        return Rules.all().stream().filter(r -> r.tier() != Rules.Tier.CLIENT).map(Rules.Rule::id).collect(Collectors.toCollection(TreeSet::new));
    }

    private static String brokenWorker(String defect) {
        return PYTHON + " " + BROKEN_WORKER + " " + defect;
    }

    private static JsonNode summary(Path dir) throws Exception {
        return ProtocolClient.JSON.readTree(dir.resolve("summary.json").toFile());
    }

    private static Set<String> strings(JsonNode array) {
        Set<String> values = new TreeSet<>();
        array.forEach(v -> values.add(v.asText()));
        return values;
    }

    private static Map<String, String> statuses(JsonNode summary) {
        Map<String, String> statuses = new TreeMap<>();
        summary.path("rules").forEach(r -> statuses.put(r.path("id").asText(), r.path("status").asText()));
        return statuses;
    }

    @Test
    void theReferenceWorkerConformsPassingEveryWorkerRuleAndTheReportSaysWhatItCertifies() throws Exception {
        Path out = reports.resolve("ok");
        assertThat(new CommandLine(new ConformanceRunner()).execute("--report-dir", out.toString())).isZero();
        JsonNode summary = summary(out);
        assertThat(summary.path("conforms").asBoolean()).isTrue();
        Map<String, String> statuses = statuses(summary);
        assertThat(statuses.keySet().stream().filter(id -> statuses.get(id).equals("PASS")).toList()).containsExactlyElementsOf(workerRules());
        assertThat(summary.path("protocol_version").asInt()).isEqualTo(1);
        assertThat(summary.path("suite_version").asText()).isEqualTo(SuiteVersion.get()).doesNotContain("${").isNotBlank();
        assertThat(strings(summary.path("declared_capabilities"))).contains("ref_ttl", "callbacks", "batch");
        assertThat(out.resolve("summary.md")).content().contains("**Conforms**", "PROTOCOL.md version 1",
                "snakebridge-conformance " + SuiteVersion.get(), RuleReport.VERDICT_RULE);
        assertThat(out.resolve("junit/TEST-junit-jupiter.xml")).exists();
    }

    @Test
    void theReferenceWorkerWithoutNumpyPassesEveryWorkerRule() throws Exception {
        RuleReport report = ConformanceRunner.run(PYTHON + " " + WITHOUT_NUMPY, ENV, reports);
        assertThat(report.rules(RuleReport.Status.FAIL)).isEmpty();
        assertThat(report.rules(RuleReport.Status.PASS)).containsExactlyElementsOf(workerRules());
        assertThat(report.conforms()).isTrue();
    }

    /** The whole suite, through the command line: the verdict a third party sees, and nothing else fails. */
    @Test
    void aWorkerThatBreaksACapabilityItDeclaresDoesNotConformInExitStatusReportAndJson() throws Exception {
        Path out = reports.resolve("ttl");
        int status = new CommandLine(new ConformanceRunner()).execute("--worker-cmd", brokenWorker("ttl_never_expires"),
                "--env", "PYTHONPATH=" + WORKER_SOURCE, "--env", "PYTHONDONTWRITEBYTECODE=1", "--report-dir", out.toString());
        assertThat(status).isEqualTo(1);
        JsonNode summary = summary(out);
        assertThat(summary.path("conforms").asBoolean(true)).isFalse();
        assertThat(strings(summary.path("declared_and_failing"))).containsExactly("REF-6");
        assertThat(strings(summary.path("required_and_failing"))).isEmpty();
        assertThat(statuses(summary).entrySet().stream().filter(e -> e.getValue().equals("FAIL")).map(Map.Entry::getKey)).containsExactly("REF-6");
        String md = Files.readString(out.resolve("summary.md"));
        assertThat(md).contains("**Does not conform**: rules of declared capabilities fail: REF-6",
                "| REF-6 | capability `ref_ttl` (declared) | FAIL |");
        assertThat(md.indexOf("## Declared and failing")).as("listed before every other section").isPositive()
                .isLessThan(md.indexOf("## Every rule"));
    }

    @Test
    void aWorkerThatDoesNotDeclareACapabilityIsNotCheckedForIt() throws Exception {
        RuleReport report = ConformanceRunner.run(brokenWorker("without_ref_ttl"), ENV, reports, Set.of("REF"));
        assertThat(report.status("REF-6")).isEqualTo(RuleReport.Status.SKIP);
        assertThat(report.rules(RuleReport.Status.FAIL)).isEmpty();
        assertThat(report.exitStatus()).isZero();
        JsonNode summary = summary(reports);
        assertThat(summary.path("conforms").asBoolean()).isTrue();
        assertThat(strings(summary.path("declared_capabilities"))).doesNotContain("ref_ttl");
    }

    @Test
    void aWorkerThatCannotCompleteAHandshakeDoesNotConform() throws Exception {
        Path out = reports.resolve("silent");
        int status = new CommandLine(new ConformanceRunner()).execute("--worker-cmd", PYTHON + " -c pass", "--report-dir", out.toString());
        assertThat(status).isEqualTo(1);
        JsonNode summary = summary(out);
        assertThat(summary.path("conforms").asBoolean(true)).isFalse();
        assertThat(summary.path("handshake_failure").asText()).isNotBlank();
        assertThat(strings(summary.path("required_and_failing"))).as("a class whose worker never started fails its rules")
                .contains("HS-1", "REF-2", "SES-3");
    }

    static Stream<Arguments> brokenWorkers() {
        return BROKEN_WORKERS.stream().map(b -> Arguments.of(b.defect(), b.exitStatus(), new TreeSet<>(b.fails())));
    }

    @ParameterizedTest(name = "{0} exits {1} failing {2}")
    @MethodSource("brokenWorkers")
    void eachBrokenWorkerFailsExactlyTheRulesItBreaksAndGetsTheirVerdict(String defect, int exitStatus, Set<String> fails) throws Exception {
        BrokenWorker broken = BROKEN_WORKERS.stream().filter(b -> b.defect().equals(defect)).findFirst().orElseThrow();
        Path out = reports.resolve(defect);
        RuleReport report = ConformanceRunner.run(brokenWorker(defect), ENV, out, broken.scope());
        assertThat(report.rules(RuleReport.Status.FAIL)).containsExactlyInAnyOrderElementsOf(fails);
        assertThat(report.exitStatus()).as("exit status").isEqualTo(exitStatus);
        JsonNode summary = summary(out);
        assertThat(summary.path("conforms").asBoolean()).as("conforms in summary.json").isEqualTo(exitStatus == 0);
        Set<String> binding = new TreeSet<>(strings(summary.path("declared_and_failing")));
        binding.addAll(strings(summary.path("required_and_failing")));
        assertThat(binding).as("rules that bind the worker and fail").isEqualTo(new TreeSet<>(report.bindingFailures()));
        assertThat(strings(summary.path("optional_and_failing"))).isEqualTo(new TreeSet<>(report.optionalFailures()));
    }

    @Test
    void everyRuleOfTheRefLifecycleIsProvedByABrokenWorkerTheSuiteCatches() {
        Set<String> proved = BROKEN_WORKERS.stream().flatMap(b -> b.fails().stream()).collect(Collectors.toSet());
        Set<String> unproved = Rules.all().stream().filter(r -> r.tier() != Rules.Tier.CLIENT)
                .filter(r -> PROVED_FAMILIES.contains(r.family()))
                .map(Rules.Rule::id).filter(id -> !proved.contains(id)).collect(Collectors.toCollection(TreeSet::new));
        assertThat(unproved).as("rules with no broken worker (conformance-tests/src/test/python/broken_worker.py) that fails them").isEmpty();
        List<String> rejectedButOptional = new ArrayList<>();
        BROKEN_WORKERS.forEach(b -> {
            boolean binds = b.fails().stream().anyMatch(id -> Rules.byId(id).orElseThrow().tier() != Rules.Tier.OPTIONAL);
            if (binds != (b.exitStatus() == 1)) {
                rejectedButOptional.add(b.defect());
            }
        });
        assertThat(rejectedButOptional).as("broken workers whose expected exit status contradicts the tiers of the rules they fail").isEmpty();
    }

    @Test
    void everyDefectOfTheBrokenWorkerScriptIsCheckedHere() throws Exception {
        ProcessBuilder builder = new ProcessBuilder(PYTHON, BROKEN_WORKER.toString(), "--list").redirectErrorStream(true);
        builder.environment().putAll(ENV);
        Process list = builder.start();
        String out = new String(list.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(list.waitFor()).as(out).isZero();
        Set<String> checked = BROKEN_WORKERS.stream().map(BrokenWorker::defect).collect(Collectors.toCollection(TreeSet::new));
        checked.add("without_ref_ttl");
        assertThat(new TreeSet<>(List.of(out.strip().split("\\s+")))).isEqualTo(checked);
    }

    @Test
    void everyRuleOfTheProtocolIsCitedByATest() {
        TestPlan plan = LauncherFactory.create().discover(LauncherDiscoveryRequestBuilder.request()
                .selectors(selectPackage(ConformanceRunner.WORKER_SUITE), selectPackage("io.snakebridge.conformance.contract"),
                        selectPackage("io.snakebridge.conformance"))
                .build());
        Set<String> cited = new TreeSet<>();
        // every identifier with a method source: parameterized tests are still containers before they run
        plan.getRoots().forEach(root -> plan.getDescendants(root).forEach(test -> cited.addAll(RuleReport.rulesOf(test))));
        Set<String> uncovered = Rules.all().stream().map(Rules.Rule::id).filter(id -> !cited.contains(id))
                .collect(Collectors.toCollection(TreeSet::new));
        assertThat(uncovered).as("rules of PROTOCOL.md that no test cites").isEmpty();
        assertThat(cited).as("cited IDs that PROTOCOL.md does not define").isSubsetOf(Rules.all().stream().map(Rules.Rule::id).toList());
    }
}

package io.snakebridge.conformance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectPackage;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.platform.launcher.TestPlan;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import picocli.CommandLine;

/** The suite has teeth: our worker passes every rule, and each broken worker fails exactly the rules it breaks. */
class ConformanceSuiteTest {
    private static final String PYTHON = System.getProperty("snakebridge.python", "python3");
    private static final String WORKER_SOURCE = System.getProperty("snakebridge.worker.source");
    private static final Path BROKEN_WORKER = Path.of("src/test/python/broken_worker.py").toAbsolutePath();
    private static final Path WITHOUT_NUMPY = Path.of("src/test/python/without_numpy_worker.py").toAbsolutePath();

    @TempDir
    Path reports;

    private static Set<String> workerRules() {
        return Rules.all().stream().filter(r -> r.tier() != Rules.Tier.CLIENT).map(Rules.Rule::id).collect(Collectors.toCollection(TreeSet::new));
    }

    @Test
    void theReferenceWorkerPassesEveryWorkerRule() throws Exception {
        RuleReport report = ConformanceRunner.run(null, Map.of(), reports);
        assertThat(report.rules(RuleReport.Status.FAIL)).isEmpty();
        assertThat(report.rules(RuleReport.Status.PASS)).containsExactlyElementsOf(workerRules());
    }

    @Test
    void theReferenceWorkerWithoutNumpyPassesEveryWorkerRule() throws Exception {
        RuleReport report = ConformanceRunner.run(PYTHON + " " + WITHOUT_NUMPY, Map.of("PYTHONPATH", WORKER_SOURCE), reports);
        assertThat(report.rules(RuleReport.Status.FAIL)).isEmpty();
        assertThat(report.rules(RuleReport.Status.PASS)).containsExactlyElementsOf(workerRules());
    }

    @ParameterizedTest(name = "{0} fails {1}")
    @CsvSource(delimiter = ';', value = {
        "release_session_by_prefix;      SES-3",
        "bare_key_error;                 ERR-1 ERR-2 REF-4 REF-5 REF-6 REF-8 SES-3 SES-6 PREP-1",
        "ttl_never_expires;              REF-6",
        "top_level_int_as_float;         VAL-INT-1 BATCH-1",
        "print_corrupts_protocol;        FRAME-6",
        "refs_visible_across_sessions;   REF-2 PREP-2",
        "ignores_response_caps;          RESP-1 RESP-2 RESP-3",
        "counter_ref_ids;                REF-1",
        "scanning_eviction;              REF-7",
        "undeclared_callbacks_accepted;  HS-4",
        "no_parent_death_signal;         FRAME-7",
    })
    void eachBrokenWorkerFailsExactlyTheRulesItBreaks(String defect, String expected) throws Exception {
        RuleReport report = ConformanceRunner.run(PYTHON + " " + BROKEN_WORKER + " " + defect, Map.of("PYTHONPATH", WORKER_SOURCE),
                reports.resolve(defect));
        assertThat(report.rules(RuleReport.Status.FAIL)).containsExactlyInAnyOrder(expected.trim().split("\\s+"));
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

    @Test
    void theRunnerWritesJunitXmlAndSummariesAndExitsNonZeroWhenARequiredRuleFails() throws Exception {
        int conforming = new CommandLine(new ConformanceRunner()).execute("--report-dir", reports.resolve("ok").toString());
        assertThat(conforming).isZero();
        assertThat(reports.resolve("ok/summary.md")).content().contains("**Conforms**");
        assertThat(reports.resolve("ok/summary.json")).content().contains("\"conforms\" : true");
        assertThat(reports.resolve("ok/junit/TEST-junit-jupiter.xml")).exists();

        int broken = new CommandLine(new ConformanceRunner()).execute("--worker-cmd", PYTHON + " " + BROKEN_WORKER + " ttl_never_expires",
                "--env", "PYTHONPATH=" + WORKER_SOURCE, "--report-dir", reports.resolve("broken").toString());
        assertThat(broken).as("an optional rule failing does not fail the run").isZero();
        int nonConforming = new CommandLine(new ConformanceRunner()).execute("--worker-cmd", PYTHON + " " + BROKEN_WORKER
                + " top_level_int_as_float", "--env", "PYTHONPATH=" + WORKER_SOURCE, "--report-dir", reports.resolve("bad").toString());
        assertThat(nonConforming).isEqualTo(1);
        assertThat(Files.readString(reports.resolve("bad/summary.md"))).contains("| VAL-INT-1 | required | FAIL |");
        assertThat(Arrays.asList(Files.readString(reports.resolve("bad/summary.json")).split("\n"))).anyMatch(l -> l.contains("VAL-INT-1"));
    }
}

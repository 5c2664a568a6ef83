package io.snakebridge.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The whole worker suite against the workers of a real remote worker server on 127.0.0.1, over TLS
 * with a token (PROTOCOL.md section 1e): frames over the TLS connection, cancels and kills through the
 * server's control connection. The rules about a process the suite starts are reported not
 * applicable, each with why, never passed.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class RemoteConformanceTest {
    /** The worker rules no test can check on a remote server's worker: each is about a local child process or its cancel-word file. */
    private static final Set<String> NOT_APPLICABLE_REMOTELY = Set.of("FRAME-1", "FRAME-7", "CANCEL-2");

    @TempDir
    static Path dir;
    static LoopbackTlsServer server;

    @BeforeAll
    static void startServer() throws Exception {
        server = LoopbackTlsServer.start(dir);
    }

    @AfterAll
    static void stopServer() throws Exception {
        server.close();
    }

    private static Map<String, String> statuses(JsonNode summary) {
        Map<String, String> statuses = new TreeMap<>();
        summary.path("rules").forEach(r -> statuses.put(r.path("id").asText(), r.path("status").asText()));
        return statuses;
    }

    @Test
    void theReferenceWorkerServedRemotelyOverTlsConformsAndTheReportNamesTheRulesItCouldNotCheck(@TempDir Path out) throws Exception {
        int status = new CommandLine(new ConformanceRunner()).execute("--remote", server.hostAndPort, "--remote-ca", server.ca.toString(),
                "--remote-token-file", server.token.toString(), "--report-dir", out.toString());
        JsonNode summary = ProtocolClient.JSON.readTree(out.resolve("summary.json").toFile());
        assertThat(status).as("exit status; %s", summary.path("required_and_failing")).isZero();
        assertThat(summary.path("conforms").asBoolean()).isTrue();
        assertThat(summary.path("worker").asText()).contains("remote worker server " + server.hostAndPort + " over TLS")
                .doesNotContain("conformance-token");
        Map<String, String> statuses = statuses(summary);
        Set<String> workerRules = Rules.all().stream().filter(r -> r.tier() != Rules.Tier.CLIENT).map(Rules.Rule::id)
                .collect(Collectors.toCollection(TreeSet::new));
        Set<String> passed = statuses.keySet().stream().filter(id -> statuses.get(id).equals("PASS")).collect(Collectors.toCollection(TreeSet::new));
        Set<String> expected = new TreeSet<>(workerRules);
        expected.removeAll(NOT_APPLICABLE_REMOTELY);
        assertThat(passed).as("every worker rule but those about a local process passes").isEqualTo(expected);
        assertThat(statuses.entrySet().stream().filter(e -> e.getValue().equals("NOT_APPLICABLE")).map(Map.Entry::getKey))
                .containsExactlyInAnyOrderElementsOf(NOT_APPLICABLE_REMOTELY);
        assertThat(ProtocolClient.JSON.convertValue(summary.path("not_applicable"), String[].class)).containsExactlyInAnyOrderElementsOf(NOT_APPLICABLE_REMOTELY);
        summary.path("rules").forEach(rule -> {
            if (NOT_APPLICABLE_REMOTELY.contains(rule.path("id").asText())) {
                assertThat(rule.path("why_not_applicable").path(0).asText()).as("why %s was not checked", rule.path("id")).isNotBlank();
            }
        });
        assertThat(Files.readString(out.resolve("summary.md"))).contains("**Conforms**", "## Not applicable to a remote worker",
                "| FRAME-1 | required | FRAME-1 is about a worker the client starts as a child process");
    }

    /**
     * The suite has teeth over the network too: a server whose workers let a cancel aimed at an
     * answered request land in the next one fails CANCEL-3, which only a cancel that went through the
     * control connection and was acknowledged before the next step can show.
     */
    @Test
    void aRemoteServerWhoseWorkersIgnoreTheCancelWordFailsCancel3(@TempDir Path out) throws Exception {
        Path brokenDir = Files.createDirectories(dir.resolve("broken"));
        try (LoopbackTlsServer broken = LoopbackTlsServer.start(brokenDir, "cancel_word_ignored")) {
            RuleReport report = ConformanceRunner.run(new RemoteTarget(broken.hostAndPort, broken.ca, broken.token), out, Set.of("HS", "CANCEL"));
            assertThat(report.rules(RuleReport.Status.FAIL)).containsExactly("CANCEL-3");
            assertThat(report.rules(RuleReport.Status.NOT_APPLICABLE)).containsExactly("CANCEL-2");
            assertThat(report.conforms()).isFalse();
        }
    }

    @Test
    void aWrongTokenGetsNoWorkerAndTheRunSaysTheServerRefusedIt(@TempDir Path out) throws Exception {
        Path wrong = Files.writeString(dir.resolve("wrong-token"), "not-the-token-0123456789abcdef\n");
        int status = new CommandLine(new ConformanceRunner()).execute("--remote", server.hostAndPort, "--remote-ca", server.ca.toString(),
                "--remote-token-file", wrong.toString(), "--report-dir", out.toString());
        assertThat(status).isEqualTo(1);
        JsonNode summary = ProtocolClient.JSON.readTree(out.resolve("summary.json").toFile());
        assertThat(summary.path("conforms").asBoolean(true)).isFalse();
        assertThat(summary.path("handshake_failure").asText()).contains("refused: authentication failed (auth_failed)");
    }

    @Test
    void remoteOptionsWithoutARemoteOrBesideAWorkerCommandAreUsageErrors(@TempDir Path out) {
        assertThat(new CommandLine(new ConformanceRunner()).execute("--remote-ca", server.ca.toString(), "--report-dir", out.toString()))
                .isEqualTo(2);
        assertThat(new CommandLine(new ConformanceRunner()).execute("--remote", server.hostAndPort, "--worker-cmd", "python3 -m x",
                "--report-dir", out.toString())).isEqualTo(2);
        assertThat(new CommandLine(new ConformanceRunner()).execute("--remote", "no-port", "--report-dir", out.toString())).isEqualTo(2);
        assertThat(out.resolve("summary.json")).doesNotExist();
    }
}

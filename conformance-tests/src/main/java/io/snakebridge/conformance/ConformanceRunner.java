package io.snakebridge.conformance;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectPackage;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.Callable;
import org.junit.platform.engine.FilterResult;
import org.junit.platform.engine.TestDescriptor;
import org.junit.platform.engine.support.descriptor.MethodSource;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.PostDiscoveryFilter;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.reporting.legacy.xml.LegacyXmlReportGeneratingListener;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Runs the worker suite against a worker command and writes JUnit XML plus a per-rule summary:
 * {@code java -jar snakebridge-conformance.jar --worker-cmd "python3 -m my_worker" --report-dir out/};
 * or against the workers of a remote worker server: {@code --remote HOST:PORT --remote-ca FILE --remote-token-file FILE}.
 * Exits 1 when the worker does not conform: a required rule fails, or a rule of a capability it
 * declares; a failing optional (SHOULD/MAY) rule is reported and does not fail the run.
 */
@Command(name = "snakebridge-conformance", mixinStandardHelpOptions = true,
        description = "Check a SnakeBridge worker against PROTOCOL.md, rule by rule.")
public final class ConformanceRunner implements Callable<Integer> {
    static final String WORKER_SUITE = "io.snakebridge.conformance.worker";

    @Option(names = "--worker-cmd", paramLabel = "COMMAND",
            description = "The worker to check, e.g. \"python3 -m my_worker\" (default: this release's reference worker)")
    String workerCmd;

    @Option(names = "--env", paramLabel = "NAME=VALUE", description = "An environment variable for the worker (repeatable)")
    Map<String, String> env = new LinkedHashMap<>();

    @Option(names = "--remote", paramLabel = "HOST:PORT",
            description = "Check the workers a remote worker server forks (serve --listen HOST:PORT with TLS) instead of a worker command")
    String remote;

    @Option(names = "--remote-ca", paramLabel = "FILE",
            description = "With --remote: the PEM CA certificate(s) to trust for the server's (default: the JVM's trust store)")
    Path remoteCa;

    @Option(names = "--remote-token-file", paramLabel = "FILE", description = "With --remote: the file holding the server's token")
    Path remoteTokenFile;

    @Option(names = "--report-dir", paramLabel = "DIR", defaultValue = "conformance-report",
            description = "Where to write junit/ (XML), summary.md and summary.json (default: ${DEFAULT-VALUE})")
    Path reportDir;

    public static void main(String[] args) {
        System.exit(new CommandLine(new ConformanceRunner()).execute(args));
    }

    @Override
    public Integer call() throws IOException {
        if (remote == null && (remoteCa != null || remoteTokenFile != null)) {
            throw new CommandLine.ParameterException(new CommandLine(this), "--remote-ca and --remote-token-file go with --remote HOST:PORT");
        }
        if (remote != null && (workerCmd != null || !env.isEmpty())) {
            throw new CommandLine.ParameterException(new CommandLine(this),
                    "--remote checks the workers of a running server: --worker-cmd and --env are the server's business, not the suite's");
        }
        RuleReport report;
        try {
            report = remote != null ? run(new RemoteTarget(remote, remoteCa, remoteTokenFile), reportDir) : run(workerCmd, env, reportDir);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(new CommandLine(this), e.getMessage());
        }
        System.out.println(report.oneLine());
        System.out.println("reports: " + reportDir.toAbsolutePath());
        if (!report.conforms()) {
            System.out.println("rules that bind this worker and fail: " + String.join(", ", report.bindingFailures()));
        }
        return report.exitStatus();
    }

    /** Runs the whole worker suite; {@code workerCmd} null means the reference worker. */
    public static RuleReport run(String workerCmd, Map<String, String> env, Path reportDir) throws IOException {
        return run(workerCmd, env, reportDir, Set.of());
    }

    /**
     * Runs the whole worker suite against the workers {@code remote} forks (PROTOCOL.md section 1e). Rules
     * about a process of this machine are reported {@link RuleReport.Status#NOT_APPLICABLE}, with why.
     */
    public static RuleReport run(RemoteTarget remote, Path reportDir) throws IOException {
        return run(remote, reportDir, Set.of());
    }

    /** The tests of {@code families} only (see the worker command's scoped run), against a remote server's workers. */
    static RuleReport run(RemoteTarget remote, Path reportDir, Set<String> families) throws IOException {
        return run(null, Map.of(), remote, reportDir, families);
    }

    /**
     * Runs the tests that cite a rule of one of {@code families} ({@code REF}, {@code OP-CALL}...),
     * or the whole worker suite when it is empty. A partial run is for the suite's own tests, which
     * check many broken workers in a bounded time; its report says that it certifies nothing.
     */
    static RuleReport run(String workerCmd, Map<String, String> env, Path reportDir, Set<String> families) throws IOException {
        return run(workerCmd, env, null, reportDir, families);
    }

    private static RuleReport run(String workerCmd, Map<String, String> env, RemoteTarget remote, Path reportDir, Set<String> families)
            throws IOException {
        Properties saved = (Properties) System.getProperties().clone();
        try {
            RemoteTarget.clearProperties();
            if (remote != null) {
                remote.setProperties();
            }
            System.getProperties().stringPropertyNames().stream().filter(k -> k.startsWith(WorkerUnderTest.ENV_PREFIX))
                    .forEach(System::clearProperty);
            if (workerCmd != null) {
                System.setProperty(WorkerUnderTest.COMMAND_PROPERTY, workerCmd);
            } else {
                System.clearProperty(WorkerUnderTest.COMMAND_PROPERTY);
            }
            env.forEach((k, v) -> System.setProperty(WorkerUnderTest.ENV_PREFIX + k, v));
            RuleReport report = new RuleReport(WorkerUnderTest.describe(), WorkerProbe.probe(), families);
            LauncherDiscoveryRequestBuilder request = LauncherDiscoveryRequestBuilder.request().selectors(selectPackage(WORKER_SUITE));
            if (!families.isEmpty()) {
                request.filters((PostDiscoveryFilter) descriptor -> citesAnyOf(descriptor, families));
            }
            Launcher launcher = LauncherFactory.create();
            StringWriter xmlLog = new StringWriter();
            launcher.execute(request.build(), report, new LegacyXmlReportGeneratingListener(reportDir.resolve("junit"), new PrintWriter(xmlLog)));
            report.write(reportDir);
            return report;
        } finally {
            System.setProperties(saved);
        }
    }

    /** Keeps a test that cites a rule of one of {@code families}, and every container (JUnit prunes the ones left empty). */
    private static FilterResult citesAnyOf(TestDescriptor descriptor, Set<String> families) {
        if (!descriptor.isTest()) {
            return FilterResult.included("a container");
        }
        boolean cited = descriptor.getSource().filter(MethodSource.class::isInstance).map(MethodSource.class::cast)
                .map(source -> source.getJavaMethod().getAnnotation(Requirement.class))
                .map(requirement -> Arrays.stream(requirement.value()).anyMatch(id -> families.contains(id.substring(0, id.lastIndexOf('-')))))
                .orElse(false);
        return FilterResult.includedIf(cited, () -> "cites a rule of " + families, () -> "cites no rule of " + families);
    }
}

package io.snakebridge.conformance;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectPackage;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.reporting.legacy.xml.LegacyXmlReportGeneratingListener;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Runs the worker suite against a worker command and writes JUnit XML plus a per-rule summary:
 * {@code java -jar snakebridge-conformance.jar --worker-cmd "python3 -m my_worker" --report-dir out/}.
 * Exits 1 when a required rule fails.
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

    @Option(names = "--report-dir", paramLabel = "DIR", defaultValue = "conformance-report",
            description = "Where to write junit/ (XML), summary.md and summary.json (default: ${DEFAULT-VALUE})")
    Path reportDir;

    public static void main(String[] args) {
        System.exit(new CommandLine(new ConformanceRunner()).execute(args));
    }

    @Override
    public Integer call() throws IOException {
        RuleReport report = run(workerCmd, env, reportDir);
        System.out.println(report.oneLine());
        System.out.println("reports: " + reportDir.toAbsolutePath());
        if (!report.requiredFailures().isEmpty()) {
            System.out.println("required rules failing: " + String.join(", ", report.requiredFailures()));
            return 1;
        }
        return 0;
    }

    /** Runs the worker suite; {@code workerCmd} null means the reference worker. */
    public static RuleReport run(String workerCmd, Map<String, String> env, Path reportDir) throws IOException {
        Properties saved = (Properties) System.getProperties().clone();
        try {
            System.getProperties().stringPropertyNames().stream().filter(k -> k.startsWith(WorkerUnderTest.ENV_PREFIX))
                    .forEach(System::clearProperty);
            if (workerCmd != null) {
                System.setProperty(WorkerUnderTest.COMMAND_PROPERTY, workerCmd);
            } else {
                System.clearProperty(WorkerUnderTest.COMMAND_PROPERTY);
            }
            env.forEach((k, v) -> System.setProperty(WorkerUnderTest.ENV_PREFIX + k, v));
            RuleReport report = new RuleReport(WorkerUnderTest.describe());
            LauncherDiscoveryRequest request = LauncherDiscoveryRequestBuilder.request().selectors(selectPackage(WORKER_SUITE)).build();
            Launcher launcher = LauncherFactory.create();
            StringWriter xmlLog = new StringWriter();
            launcher.execute(request, report, new LegacyXmlReportGeneratingListener(reportDir.resolve("junit"), new PrintWriter(xmlLog)));
            report.write(reportDir);
            return report;
        } finally {
            System.setProperties(saved);
        }
    }
}

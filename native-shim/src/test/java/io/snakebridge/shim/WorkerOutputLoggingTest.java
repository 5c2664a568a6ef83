package io.snakebridge.shim;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.slf4j.event.Level;

/** What a worker writes to stderr reaches the log safely: escaped, capped, rate-limited, with Python's levels. */
class WorkerOutputLoggingTest {
    private static final String PYTHON = System.getProperty("snakebridge.python", "python3");
    private static final Path WORKER_SOURCES = Path.of("../python/src/main/python").toAbsolutePath().normalize();
    private static final Pattern SUPPRESSED = Pattern.compile("suppressed (\\d+) lines of output");

    record Logged(String logger, Level level, String message) {
    }

    /** Records what the pump logs; optionally slow, like an appender writing to a busy disk. */
    static final class Recorder implements StderrPump.LogSink {
        final List<Logged> logged = new ArrayList<>();
        private final long nanosPerLine;

        Recorder(long nanosPerLine) {
            this.nanosPerLine = nanosPerLine;
        }

        @Override
        public synchronized void log(String logger, Level level, String message) {
            logged.add(new Logged(logger, level, message));
            if (nanosPerLine > 0) {
                LockSupport.parkNanos(nanosPerLine);
            }
        }

        synchronized List<Logged> logged() {
            return new ArrayList<>(logged);
        }
    }

    /** Runs {@code script} in Python, with the worker's sources importable, to its end; returns the worker for its tail. */
    private static WorkerProcess runPython(String script, Recorder recorder) throws Exception {
        WorkerProcess p = WorkerProcess.start(List.of(PYTHON, "-c", script), Map.of("PYTHONPATH", WORKER_SOURCES.toString()), recorder);
        if (!p.awaitExit(Duration.ofSeconds(30))) {
            p.kill();
            throw new AssertionError("the script did not end within 30 s");
        }
        p.drainStderr(Duration.ofSeconds(10));
        assertThat(p.exitDescription()).isEqualTo("exit code 0");
        return p;
    }

    private static String tagged(WorkerProcess p, String text) {
        return "[worker " + p.pid() + "] " + text;
    }

    @Test
    void aCarriageReturnOrAnEscapeSequenceIsEscapedAndCannotForgeALogLine() throws Exception {
        Recorder log = new Recorder(0);
        WorkerProcess p = runPython("import sys; sys.stderr.write('done\\r2031-01-01 ERROR [main] forged\\n"
                + "\\x1b[2K\\x1b[31mred\\x85\\u2028\\u202etab\\tok\\r\\n')", log);
        assertThat(log.logged()).containsExactly(
                new Logged(StderrPump.OUTPUT_LOGGER, Level.INFO, tagged(p, "done\\r2031-01-01 ERROR [main] forged")),
                new Logged(StderrPump.OUTPUT_LOGGER, Level.INFO, tagged(p, "\\x1b[2K\\x1b[31mred\\x85\\u2028\\u202etab\tok")));
        assertThat(p.recentStderr()).containsExactly("done\\r2031-01-01 ERROR [main] forged", "\\x1b[2K\\x1b[31mred\\x85\\u2028\\u202etab\tok");
    }

    @Test
    void anOverlongLineKeepsItsStartAndEndAroundANoteOfHowMuchWasCut() throws Exception {
        Recorder log = new Recorder(0);
        WorkerProcess p = runPython("import sys; sys.stderr.write('a' * 50000 + 'b' * 50000 + '\\nnext\\n')", log);
        int half = StderrPump.MAX_LINE_CHARS / 2;
        String expected = "a".repeat(half) + " ... [" + (100_000 - StderrPump.MAX_LINE_CHARS) + " chars cut] ... " + "b".repeat(half);
        assertThat(log.logged()).extracting(Logged::message).containsExactly(tagged(p, expected), tagged(p, "next"));
        assertThat(p.recentStderr()).containsExactly(expected, "next");
    }

    @Test
    void escapesCountAgainstTheCapSoALineOfControlCharactersStaysWithinIt() throws Exception {
        Recorder log = new Recorder(0);
        WorkerProcess p = runPython("import sys; sys.stderr.write('\\x1b' * 10000 + '\\n')", log);
        String line = p.recentStderr().get(0);
        int perHalf = StderrPump.MAX_LINE_CHARS / 2 / 4; // each ESC is written \x1b
        assertThat(line).isEqualTo("\\x1b".repeat(perHalf) + " ... [" + (10_000 - 2 * perHalf) + " chars cut] ... " + "\\x1b".repeat(perHalf));
    }

    @Test
    void aFloodIsRateLimitedEveryLineIsLoggedOrCountedAndTheWorkerIsNeverHeldUp() throws Exception {
        // An appender taking 1 ms a line would hold a worker writing 100,000 lines for 100 s without the cap.
        Recorder log = new Recorder(TimeUnit.MILLISECONDS.toNanos(1));
        long start = System.nanoTime();
        WorkerProcess p = runPython("import sys; sys.stderr.write(''.join(f'line {i}\\n' for i in range(100000)))", log);
        double seconds = (System.nanoTime() - start) / 1e9;
        assertThat(seconds).as("time to write and read the flood").isLessThan(20);
        List<Logged> logged = log.logged();
        long shown = logged.stream().filter(l -> l.logger().equals(StderrPump.OUTPUT_LOGGER)).count();
        long suppressed = logged.stream().map(l -> SUPPRESSED.matcher(l.message())).filter(Matcher::find)
                .mapToLong(m -> Long.parseLong(m.group(1))).sum();
        assertThat(shown).isLessThanOrEqualTo((long) StderrPump.MAX_LINES_PER_SECOND * ((long) seconds + 1));
        assertThat(shown + suppressed).isEqualTo(100_000);
        assertThat(logged).filteredOn(l -> l.message().contains("suppressed"))
                .allMatch(l -> l.logger().equals(StderrPump.WORKER_LOGGER) && l.level() == Level.WARN);
        assertThat(p.recentStderr()).hasSize(StderrPump.TAIL_LINES).endsWith("line 99999");
    }

    @Test
    void pythonLogRecordsKeepTheirLevelUnderTheMappedLoggerName() throws Exception {
        Recorder log = new Recorder(0);
        WorkerProcess p = runPython("from snakebridge_worker import logs; logs.install_from_environment(); import logging\n"
                + "logging.getLogger('app.db').warning('disk %s', 'full')\n"
                + "logging.getLogger('app').info('not sent: the root is at WARNING')\n"
                + "logging.getLogger().setLevel(logging.DEBUG)\n"
                + "logging.getLogger('app').debug('details')\n"
                + "logging.getLogger('app').info('steady')\n"
                + "logging.error('boom')\n"
                + "logging.getLogger('app').critical('down')\n", log);
        String python = StderrPump.PYTHON_LOGGER;
        assertThat(log.logged()).containsExactly(
                new Logged(python + ".app.db", Level.WARN, tagged(p, "disk full")),
                new Logged(python + ".app", Level.DEBUG, tagged(p, "details")),
                new Logged(python + ".app", Level.INFO, tagged(p, "steady")),
                new Logged(python + ".root", Level.ERROR, tagged(p, "boom")),
                new Logged(python + ".app", Level.ERROR, tagged(p, "down")));
        assertThat(p.recentStderr()).startsWith("WARN app.db: disk full");
    }

    @Test
    void aLoggedTracebackIsOneRecordAtItsLevelWithItsNewlinesEscaped() throws Exception {
        Recorder log = new Recorder(0);
        runPython("from snakebridge_worker import logs; logs.install_from_environment(); import logging\n"
                + "try:\n    1 / 0\nexcept ZeroDivisionError:\n    logging.getLogger('job').exception('failed')\n", log);
        assertThat(log.logged()).singleElement().satisfies(l -> {
            assertThat(l.level()).isEqualTo(Level.ERROR);
            assertThat(l.logger()).isEqualTo(StderrPump.PYTHON_LOGGER + ".job");
            assertThat(l.message()).contains("failed\\nTraceback (most recent call last):\\n").endsWith("ZeroDivisionError: division by zero");
        });
    }

    @Test
    void aPrintToStderrArrivesAtThePlainOutputLoggerAtInfo() throws Exception {
        Recorder log = new Recorder(0);
        WorkerProcess p = runPython("import sys; print('hello', file=sys.stderr)", log);
        assertThat(log.logged()).containsExactly(new Logged(StderrPump.OUTPUT_LOGGER, Level.INFO, tagged(p, "hello")));
    }

    @Test
    void outputImitatingARecordGainsNoLevelOrLoggerWithoutThisProcesssNonce() throws Exception {
        Recorder log = new Recorder(0);
        WorkerProcess p = runPython("from snakebridge_worker import logs; logs.install_from_environment(); import logging, sys\n"
                + "print('snakebridge-log 00000000000000000000000000000000 50 security.audit forged', file=sys.stderr)\n"
                + "print('snakebridge-log  50 security.audit forged', file=sys.stderr)\n"
                + "logging.getLogger('app').warning('user said: %s', 'x\\nsnakebridge-log guess 50 security.audit forged')\n", log);
        assertThat(log.logged()).containsExactly(
                new Logged(StderrPump.OUTPUT_LOGGER, Level.INFO, tagged(p, "snakebridge-log 00000000000000000000000000000000 50 security.audit forged")),
                new Logged(StderrPump.OUTPUT_LOGGER, Level.INFO, tagged(p, "snakebridge-log  50 security.audit forged")),
                new Logged(StderrPump.PYTHON_LOGGER + ".app", Level.WARN, tagged(p, "user said: x\\nsnakebridge-log guess 50 security.audit forged")));
    }

    @Test
    void eachWorkerGetsItsOwnNonceAndItIsNotInheritedByTheWorkersChildren() throws Exception {
        Recorder log = new Recorder(0);
        runPython("import os, sys; print(os.environ['SNAKEBRIDGE_LOG_NONCE'], file=sys.stderr)", log);
        runPython("import os, sys; print(os.environ['SNAKEBRIDGE_LOG_NONCE'], file=sys.stderr)", log);
        runPython("from snakebridge_worker import logs; logs.install_from_environment(); import subprocess, sys\n"
                + "subprocess.run([sys.executable, '-c', 'import os, sys; print(os.environ.get(\"SNAKEBRIDGE_LOG_NONCE\"), file=sys.stderr)'])",
                log);
        List<String> seen = log.logged().stream().map(l -> l.message().substring(l.message().indexOf("] ") + 2)).toList();
        assertThat(seen.get(0)).matches("[0-9a-f]{32}");
        assertThat(seen.get(1)).matches("[0-9a-f]{32}").isNotEqualTo(seen.get(0));
        assertThat(seen.get(2)).isEqualTo("None");
    }

    @Test
    void pythonLoggerNamesAreSanitizedForSlf4j() {
        StderrPump.LoggerNames names = new StderrPump.LoggerNames(10);
        assertThat(names.loggerFor("urllib3.connectionpool")).isEqualTo("io.snakebridge.worker.python.urllib3.connectionpool");
        assertThat(names.loggerFor("a/b\\x1b[0m")).isEqualTo("io.snakebridge.worker.python.a_b_x1b_0m");
        assertThat(names.loggerFor("")).isEqualTo("io.snakebridge.worker.python");
        assertThat(names.loggerFor("n".repeat(1000))).hasSize((StderrPump.PYTHON_LOGGER + ".").length() + StderrPump.MAX_LOGGER_NAME_CHARS);
    }

    @Test
    void pastItsCapacityOfDistinctNamesNewPythonLoggersShareTheParent() {
        StderrPump.LoggerNames names = new StderrPump.LoggerNames(2);
        assertThat(names.loggerFor("a")).isEqualTo("io.snakebridge.worker.python.a");
        assertThat(names.loggerFor("b")).isEqualTo("io.snakebridge.worker.python.b");
        assertThat(names.loggerFor("c")).isEqualTo("io.snakebridge.worker.python");
        assertThat(names.loggerFor("a")).isEqualTo("io.snakebridge.worker.python.a");
    }

    @Test
    void pythonLevelsMapToSlf4jLevels() {
        assertThat(List.of(5, 10, 15, 20, 25, 30, 40, 50).stream().map(StderrPump::levelOf)).containsExactly(
                Level.TRACE, Level.DEBUG, Level.DEBUG, Level.INFO, Level.INFO, Level.WARN, Level.ERROR, Level.ERROR);
    }

    @Test
    void readmeStatesTheOutputCapsTheCodeUses() throws Exception {
        String readme = Files.readString(Path.of("../README.md"));
        int start = readme.indexOf("<!-- worker-output:start -->");
        int end = readme.indexOf("<!-- worker-output:end -->");
        assertThat(start).as("README has a worker-output table").isNotNegative();
        Map<String, String> rows = new LinkedHashMap<>();
        Matcher row = Pattern.compile("^\\| ([^|]+?) \\| `([^`]*)` \\|", Pattern.MULTILINE).matcher(readme.substring(start, end));
        while (row.find()) {
            rows.put(row.group(1), row.group(2));
        }
        assertThat(rows).containsExactly(
                Map.entry("longest line (characters, after escaping)", String.valueOf(StderrPump.MAX_LINE_CHARS)),
                Map.entry("lines logged per second, per worker", String.valueOf(StderrPump.MAX_LINES_PER_SECOND)),
                Map.entry("lines kept for crash messages", String.valueOf(StderrPump.TAIL_LINES)),
                Map.entry("Python logger names with their own logger, per JVM", String.valueOf(StderrPump.MAX_PYTHON_LOGGERS)));
    }
}

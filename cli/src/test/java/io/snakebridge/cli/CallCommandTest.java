package io.snakebridge.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class CallCommandTest {
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        CommandLine cli = Main.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        String[] withPython = new String[args.length + 2];
        System.arraycopy(args, 0, withPython, 0, args.length);
        withPython[args.length] = "--python";
        withPython[args.length + 1] = System.getProperty("snakebridge.python", "python3");
        return cli.execute(withPython);
    }

    @Test
    void everySubcommandAnswersHelpWithItsUsage() {
        CommandLine cli = Main.commandLine();
        for (String name : cli.getSubcommands().keySet()) {
            for (String help : new String[] {"-h", "--help"}) {
                StringWriter usage = new StringWriter();
                CommandLine fresh = Main.commandLine();
                fresh.setOut(new PrintWriter(usage, true));
                fresh.setErr(new PrintWriter(err, true));
                assertThat(fresh.execute(name, help)).as("%s %s", name, help).isZero();
                assertThat(usage.toString()).as("%s %s", name, help).contains("Usage: snakebridge " + name);
            }
        }
        assertThat(err.toString()).doesNotContain("Missing required");
    }

    @Test
    void bigIntResultPrintsExactly() {
        assertThat(run("call", "math.factorial", "30")).isZero();
        assertThat(out.toString().trim()).isEqualTo("265252859812191058636308480000000");
    }

    @Test
    void jsonListArgumentReachesPython() {
        assertThat(run("call", "statistics.mean", "[1, 2, 3, 4]")).isZero();
        assertThat(out.toString().trim()).isEqualTo("2.5");
    }

    @Test
    void tuplesPrintAsJsonArrays() {
        assertThat(run("call", "divmod", "7", "2")).isZero();
        assertThat(out.toString().trim()).isEqualTo("[3,1]");
    }

    @Test
    void pythonErrorExitsNonZeroAndPrintsTypeAndMessage() {
        assertThat(run("call", "operator.truediv", "1", "0")).isEqualTo(CallCommand.PYTHON_ERROR);
        assertThat(err.toString()).contains("ZeroDivisionError: division by zero");
    }

    @Test
    void theConformanceSubcommandChecksTheReferenceWorkerAndWritesReports(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
        int exit = Main.commandLine().execute("conformance", "--report-dir", dir.toString(),
                "--env", "PYTHONPATH=" + io.snakebridge.SnakeBridge.referenceWorkerPath());
        assertThat(exit).isZero();
        assertThat(dir.resolve("summary.md")).content().contains("**Conforms**");
    }

    @Test
    void anArgumentThatIsNotJsonIsAUsageError() {
        assertThat(run("call", "len", "{oops")).isEqualTo(CallCommand.USAGE_ERROR);
        assertThat(err.toString()).contains("not a JSON value: {oops");
    }
}

package io.snakebridge.cli;

import io.snakebridge.BridgeConfig;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code snakebridge soak}: proves that nothing grows; exits 1 if a figure grew past its slack. */
@Command(name = "soak", mixinStandardHelpOptions = true, description = "Run connect/call/close cycles, then calls on one connection, and print JVM heap, "
        + "threads, file descriptors, child processes and worker RSS at the start and the end.")
final class SoakCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--cycles", description = "connect -> call -> close cycles (default: ${DEFAULT-VALUE})")
    int cycles = 10_000;

    @Option(names = "--calls", description = "calls on one connection (default: ${DEFAULT-VALUE})")
    long calls = 1_000_000;

    @Option(names = "--python", description = "Interpreter to run the worker with (default: ${DEFAULT-VALUE})")
    String python = BridgeConfig.defaults().python();

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Soak.Report report = Soak.run(BridgeConfig.builder().python(python).build(), cycles, calls, line -> {
            out.println(line);
            out.flush();
        });
        out.println();
        out.println(String.format("%-34s %14s %14s %10s", "figure", "start", "end", "slack"));
        report.figures().forEach(out::println);
        out.println(String.format("%d cycles and %d calls in %.1f s: %s", report.cycles(), report.calls(), report.millis() / 1000.0,
                report.flat() ? "everything flat" : "SOMETHING GREW"));
        return report.flat() ? 0 : 1;
    }
}

package io.snakebridge.cli;

import io.snakebridge.conformance.ConformanceRunner;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code snakebridge} command. */
@Command(name = "snakebridge", mixinStandardHelpOptions = true, version = "snakebridge 0.1.0",
        description = "Use CPython from the command line through the SnakeBridge driver.",
        subcommands = {CallCommand.class, ServeCommand.class, SoakCommand.class})
public final class Main {
    /** The command with every subcommand: {@code call}, and {@code conformance} (the TCK runner). */
    static CommandLine commandLine() {
        return new CommandLine(new Main()).addSubcommand("conformance", new CommandLine(new ConformanceRunner()).setCommandName("conformance"));
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }
}

package io.snakebridge.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code snakebridge} command. */
@Command(name = "snakebridge", mixinStandardHelpOptions = true, version = "snakebridge 0.1.0",
        description = "Use CPython from the command line through the SnakeBridge driver.",
        subcommands = {CallCommand.class})
public final class Main {
    public static void main(String[] args) {
        System.exit(new CommandLine(new Main()).execute(args));
    }
}

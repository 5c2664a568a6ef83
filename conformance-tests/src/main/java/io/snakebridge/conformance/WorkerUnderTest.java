package io.snakebridge.conformance;

import io.snakebridge.SnakeBridge;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The worker command the suite drives, from system properties the runner sets:
 * {@code snakebridge.conformance.workerCmd} (split on spaces) and {@code snakebridge.conformance.env.NAME}.
 * Without a command, the reference worker of this release is used. A run against a remote worker
 * server ({@link RemoteTarget}) starts no command.
 */
public final class WorkerUnderTest {
    public static final String COMMAND_PROPERTY = "snakebridge.conformance.workerCmd";
    public static final String ENV_PREFIX = "snakebridge.conformance.env.";

    private WorkerUnderTest() {
    }

    public static List<String> command() {
        String cmd = System.getProperty(COMMAND_PROPERTY);
        if (cmd == null || cmd.isBlank()) {
            return List.of(System.getProperty("snakebridge.python", "python3"), "-m", "snakebridge_worker");
        }
        return Arrays.asList(cmd.trim().split("\\s+"));
    }

    public static Map<String, String> environment() {
        Map<String, String> env = new LinkedHashMap<>();
        if (System.getProperty(COMMAND_PROPERTY) == null) {
            String source = System.getProperty("snakebridge.worker.source");
            env.put("PYTHONPATH", source != null ? source : SnakeBridge.referenceWorkerPath().toString());
            env.put("PYTHONDONTWRITEBYTECODE", "1"); // bytecode next to the driver's checked copy would fail its next check
        }
        System.getProperties().stringPropertyNames().stream().filter(k -> k.startsWith(ENV_PREFIX))
                .forEach(k -> env.put(k.substring(ENV_PREFIX.length()), System.getProperty(k)));
        return env;
    }

    static String describe() {
        if (RemoteTarget.configured().isPresent()) {
            return RemoteTarget.configured().get().describe();
        }
        return String.join(" ", command()) + (environment().isEmpty() ? "" : " with " + environment());
    }
}

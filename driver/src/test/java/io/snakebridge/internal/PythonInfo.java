package io.snakebridge.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Asks an interpreter about itself (its executable, its user site, a venv's site-packages) for tests to plant files. */
final class PythonInfo {
    private PythonInfo() {
    }

    /** What {@code code} prints, run by {@code python} with {@code environment} added; fails unless it exits 0. */
    static String eval(String python, String code, Map<String, String> environment, String... args) {
        List<String> command = new ArrayList<>(List.of(python, "-c", code));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().putAll(environment);
        try {
            Process process = builder.start();
            String printed = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (process.waitFor() != 0) {
                throw new IllegalStateException(python + " -c '" + code + "' failed: " + printed);
            }
            return printed;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static String eval(String python, String code) {
        return eval(python, code, Map.of());
    }
}

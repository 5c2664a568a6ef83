package io.snakebridge.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A JVM running {@link StartProbe} in a directory and environment of the test's choosing, on this
 * test's classpath but with the worker sources in a jar, as an application has them: its starts go
 * through the worker cache, whatever the build put on the test classpath.
 */
final class ChildJvm {
    /** The real interpreter behind {@code snakebridge.python}: a version manager's shim would only cost time. */
    static final String PYTHON = PythonInfo.eval(System.getProperty("snakebridge.python", "python3"), "import sys; print(sys.executable)");
    private static final String CLASSPATH = classpathWithPackagedWorker();

    private final Process process;
    private final BufferedReader out;
    private final Path stderr;

    private ChildJvm(Process process, Path stderr) {
        this.process = process;
        this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        this.stderr = stderr;
    }

    /**
     * Starts a probe in {@code directory} with the JVM's environment changed by {@code environment}
     * (a null value removes the variable); it waits for {@link #go()} once {@link #awaitReady()} returns.
     */
    static ChildJvm start(Path directory, Map<String, String> environment, List<String> jvmOptions, int starts,
                          String settings, String... expressions) throws IOException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xshare:auto", "-cp", CLASSPATH));
        command.addAll(jvmOptions);
        command.addAll(List.of(StartProbe.class.getName(), PYTHON, Integer.toString(starts), settings));
        command.addAll(Arrays.asList(expressions));
        ProcessBuilder builder = new ProcessBuilder(command).directory(directory.toFile());
        environment.forEach((name, value) -> {
            if (value == null) {
                builder.environment().remove(name);
            } else {
                builder.environment().put(name, value);
            }
        });
        Path stderr = Files.createTempFile("probe-", ".stderr");
        builder.redirectError(stderr.toFile());
        return new ChildJvm(builder.start(), stderr);
    }

    /** Runs one probe to the end: ready, go, finish. */
    static Result run(Path directory, Map<String, String> environment, List<String> jvmOptions, String settings,
                      String... expressions) throws Exception {
        ChildJvm jvm = start(directory, environment, jvmOptions, 1, settings, expressions);
        jvm.awaitReady();
        jvm.go();
        return jvm.finish(Duration.ofSeconds(60));
    }

    void awaitReady() throws IOException {
        String line = out.readLine();
        assertThat(line).as("probe's first line; its stderr: %s", Files.readString(stderr)).isEqualTo("ready");
    }

    void go() throws IOException {
        OutputStream in = process.getOutputStream();
        in.write('\n');
        in.flush();
    }

    Result finish(Duration timeout) throws Exception {
        List<String> values = out.lines().filter(l -> l.startsWith("=> ")).map(l -> l.substring(3)).collect(Collectors.toList());
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
        }
        String errors = Files.readString(stderr);
        Files.delete(stderr);
        return new Result(process.isAlive() ? -1 : process.exitValue(), values, errors);
    }

    /** How a probe ended: its exit status, the values it printed in order, and its stderr. */
    record Result(int exitCode, List<String> values, String stderr) {
        Result assertSucceeded() {
            assertThat(exitCode).as("probe exit status; its stderr:%n%s", stderr).isZero();
            return this;
        }
    }

    private static String classpathWithPackagedWorker() {
        URL marker = ChildJvm.class.getClassLoader().getResource("snakebridge_worker/__main__.py");
        String classpath = System.getProperty("java.class.path");
        if (!"file".equals(marker.getProtocol())) {
            return classpath; // already a jar
        }
        try {
            Path sources = Path.of(marker.toURI()).getParent().getParent();
            Path jar = jarOf(sources);
            return Arrays.stream(classpath.split(File.pathSeparator))
                    .map(entry -> Path.of(entry).toAbsolutePath().equals(sources.toAbsolutePath()) ? jar.toString() : entry)
                    .collect(Collectors.joining(File.pathSeparator));
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The worker package under {@code sources} as a jar in this module's target directory. */
    private static Path jarOf(Path sources) {
        Path jar = Path.of("target", "child-jvm", "snakebridge-python.jar").toAbsolutePath();
        try (Stream<Path> files = Files.walk(sources.resolve(WorkerSources.PACKAGE))) {
            Files.createDirectories(jar.getParent());
            try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar))) {
                for (Path file : files.filter(Files::isRegularFile).filter(f -> !f.toString().contains("__pycache__")).sorted().toList()) {
                    out.putNextEntry(new JarEntry(sources.relativize(file).toString().replace(File.separatorChar, '/')));
                    out.write(Files.readAllBytes(file));
                }
            }
            return jar;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

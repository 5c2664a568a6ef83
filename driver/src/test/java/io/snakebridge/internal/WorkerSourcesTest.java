package io.snakebridge.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WorkerSourcesTest {
    @TempDir
    Path dir;

    private Path jar(String name, String mainSource) throws Exception {
        Path jar = dir.resolve(name);
        try (OutputStream file = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(file)) {
            out.putNextEntry(new JarEntry("snakebridge_worker/__main__.py"));
            out.write(mainSource.getBytes(StandardCharsets.UTF_8));
            out.putNextEntry(new JarEntry("snakebridge_worker/defaults.json"));
            out.write("{}".getBytes(StandardCharsets.UTF_8));
            out.putNextEntry(new JarEntry("io/snakebridge/Other.class"));
            out.write(new byte[] {1, 2, 3});
        }
        return jar;
    }

    @Test
    void sourcesInAJarAreExtractedOnceToADirectoryNamedByTheirContent() throws Exception {
        Path cache = dir.resolve("cache");
        Path first;
        try (JarFile jar = new JarFile(jar("a.jar", "print('v1')").toFile())) {
            first = WorkerSources.extract(jar, cache);
            assertThat(WorkerSources.extract(jar, cache)).isEqualTo(first);
        }
        assertThat(first.resolve("snakebridge_worker/__main__.py")).hasContent("print('v1')");
        assertThat(first.resolve("io")).doesNotExist();
        Path second;
        try (JarFile jar = new JarFile(jar("b.jar", "print('v2')").toFile())) {
            second = WorkerSources.extract(jar, cache);
        }
        assertThat(second).isNotEqualTo(first);
        assertThat(second.resolve("snakebridge_worker/__main__.py")).hasContent("print('v2')");
        try (var entries = Files.list(cache)) {
            assertThat(entries).allMatch(p -> p.getFileName().toString().startsWith("worker-")); // no staging left behind
        }
    }
}

package io.snakebridge.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The worker cache as JVMs meet it: many at once, or one without a home directory. */
class WorkerCacheAcrossJvmsTest {
    @TempDir
    Path dir;

    @Test
    void twelveJvmsStartingWorkersAtOnceFromOneFreshCacheAllSucceedAndLeaveNoStagingDirectories() throws Exception {
        Path cache = dir.resolve("cache");
        List<ChildJvm> jvms = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            jvms.add(ChildJvm.start(dir, Map.of("XDG_CACHE_HOME", cache.toString()), List.of(), 6, ""));
        }
        for (ChildJvm jvm : jvms) {
            jvm.awaitReady();
        }
        for (ChildJvm jvm : jvms) {
            jvm.go(); // all extract at once
        }
        for (ChildJvm jvm : jvms) {
            assertThat(jvm.finish(Duration.ofSeconds(90)).assertSucceeded().stderr()).doesNotContain("extracting it again");
        }
        try (Stream<Path> entries = Files.list(cache.resolve("snakebridge"))) {
            assertThat(entries).singleElement().satisfies(only -> assertThat(only.getFileName().toString()).startsWith("worker-"));
        }
        try (Stream<Path> tree = Files.walk(cache)) {
            assertThat(tree).noneMatch(p -> p.getFileName().toString().equals("__pycache__")); // the workers wrote no bytecode there
        }
    }

    @Test
    void withoutAHomeDirectoryTheCacheIsAPrivateDirectoryInTheTempDirectory() throws Exception {
        Path work = Files.createDirectories(dir.resolve("work"));
        Path tmp = Files.createDirectories(dir.resolve("tmp"));
        ChildJvm.Result result = ChildJvm.run(work, environmentWithout("XDG_CACHE_HOME"),
                List.of("-Duser.home=?", "-Djava.io.tmpdir=" + tmp), "", "__import__('snakebridge_worker').__file__");
        result.assertSucceeded();
        try (Stream<Path> leftInWork = Files.list(work)) {
            assertThat(leftInWork).isEmpty(); // not "?/.cache" in the working directory
        }
        Path cache = tmp.resolve("snakebridge-" + Files.getAttribute(dir, "unix:uid"));
        assertThat(Path.of(result.values().get(0))).startsWith(cache);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(cache))).isEqualTo("rwx------");
    }

    private static Map<String, String> environmentWithout(String name) {
        Map<String, String> changes = new java.util.HashMap<>();
        changes.put(name, null);
        return changes;
    }
}

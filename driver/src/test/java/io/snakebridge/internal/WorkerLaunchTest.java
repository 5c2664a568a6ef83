package io.snakebridge.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.snakebridge.BridgeConfig;
import io.snakebridge.BridgeSetting;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WorkerLaunchTest {
    private static final Map<String, String> JVM = Map.of("PATH", "/usr/bin", "LC_TIME", "C", "OMP_NUM_THREADS", "2",
            "AWS_SECRET_ACCESS_KEY", "secret", "PYTHONPATH", "/elsewhere", "LD_PRELOAD", "/evil.so", "MY_APP_MODE", "test");

    @Test
    void aWorkerGetsOnlyTheAllowListedVariablesOfTheJvm() {
        assertThat(WorkerLaunch.environment(BridgeConfig.defaults(), JVM))
                .containsExactlyInAnyOrderEntriesOf(Map.of("PATH", "/usr/bin", "LC_TIME", "C", "OMP_NUM_THREADS", "2"));
    }

    @Test
    void inheritEnvironmentPassesNamedVariablesAndWorkerEnvironmentSetsValuesOverAll() {
        BridgeConfig config = BridgeSetting.configFrom(Map.of("inheritEnvironment", "MY_APP_MODE, NOT_SET",
                "workerEnvironment", "OMP_NUM_THREADS=1,EXTRA=a=b"));
        assertThat(WorkerLaunch.environment(config, JVM)).containsExactlyInAnyOrderEntriesOf(Map.of("PATH", "/usr/bin",
                "LC_TIME", "C", "OMP_NUM_THREADS", "1", "MY_APP_MODE", "test", "EXTRA", "a=b"));
        assertThat(BridgeSetting.WORKER_ENVIRONMENT.valueIn(config)).isEqualTo("EXTRA=a=b,OMP_NUM_THREADS=1");
    }

    @Test
    void pythonVariablesAreRefusedBecauseAnIsolatedWorkerIgnoresThem() {
        assertThatThrownBy(() -> BridgeConfig.builder().inheritEnvironment("PYTHONPATH"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("pythonPath").hasMessageContaining("-I");
        assertThatThrownBy(() -> BridgeConfig.builder().workerEnvironment(Map.of("PYTHONHASHSEED", "0")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("PYTHONHASHSEED");
        assertThatThrownBy(() -> BridgeSetting.configFrom(Map.of("workerEnvironment", "NO_VALUE")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("NAME=value");
    }

    @Test
    void theWorkerRunsIsolatedWithItsSourcesThenThePythonPathFirstOnSysPath(@TempDir Path dir) {
        BridgeConfig config = BridgeConfig.builder().pythonPath(dir.resolve("a"), dir.resolve("b")).build();
        assertThat(WorkerLaunch.command(config, dir.resolve("sources")))
                .containsExactly("python3", "-I", "-c", WorkerLaunch.BOOTSTRAP, dir.resolve("sources").toString(),
                        dir.resolve("a").toString(), dir.resolve("b").toString());
    }

    @Test
    void readmeListsExactlyTheVariablesEveryWorkerGets() throws Exception {
        String readme = Files.readString(Path.of("..", "README.md"));
        String list = readme.substring(readme.indexOf("<!-- worker-environment:start -->"), readme.indexOf("<!-- worker-environment:end -->"));
        Set<String> documented = new LinkedHashSet<>();
        Matcher names = Pattern.compile("`([A-Z_]+\\*?)`").matcher(list);
        while (names.find()) {
            documented.add(names.group(1));
        }
        assertThat(documented).containsExactlyInAnyOrderElementsOf(WorkerLaunch.INHERITED_BY_DEFAULT);
    }
}

package io.snakebridge.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.snakebridge.BridgeConfig;
import io.snakebridge.BridgeConnection;
import io.snakebridge.SnakeBridge;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What surrounds a JVM does not reach into its workers: not the files in its working directory, not
 * the user's site-packages, not its PYTHON* variables or the rest of its environment. One child JVM,
 * started in a working directory full of traps, answers every test here.
 */
class WorkerIsolationTest {
    @TempDir
    static Path dir;
    static Path work;
    static Path inheritedPythonPath;
    static ChildJvm.Result probe;

    @BeforeAll
    static void startAWorkerAmongTraps() throws Exception {
        work = Files.createDirectories(dir.resolve("work"));
        Files.writeString(work.resolve("statistics.py"), "def mean(data):\n    return 'planted'\n");
        Path planted = Files.createDirectories(work.resolve(WorkerSources.PACKAGE));
        Files.writeString(planted.resolve("__init__.py"), "");
        Files.writeString(planted.resolve("__main__.py"), "import sys\nsys.stderr.write('planted worker ran\\n')\nsys.exit(3)\n");

        Path userBase = dir.resolve("userbase");
        Path userSite = Path.of(PythonInfo.eval(ChildJvm.PYTHON, "import site; print(site.getusersitepackages())",
                Map.of("PYTHONUSERBASE", userBase.toString())));
        Files.createDirectories(userSite);
        Files.writeString(userSite.resolve("sb_probe.pth"), "import os; os.environ['SB_PTH_RAN'] = '1'\n");

        inheritedPythonPath = Files.createDirectories(dir.resolve("inherited"));
        Files.writeString(inheritedPythonPath.resolve("sb_inherited.py"), "VALUE = 1\n");

        Map<String, String> environment = new HashMap<>();
        environment.put("XDG_CACHE_HOME", dir.resolve("cache").toString());
        environment.put("PYTHONUSERBASE", userBase.toString());
        environment.put("PYTHONPATH", inheritedPythonPath.toString());
        environment.put("SB_SECRET", "hunter2");
        environment.put("OMP_NUM_THREADS", "3");
        environment.put("SB_INHERITED", "by name");
        probe = ChildJvm.run(work, environment, List.of(), "inheritEnvironment=SB_INHERITED&workerEnvironment=SB_GIVEN=given",
                "__import__('statistics').__file__",
                "__import__('snakebridge_worker').__file__",
                "'SB_PTH_RAN' in __import__('os').environ",
                "'|'.join(__import__('sys').path)",
                "'|'.join(sorted(__import__('os').environ))",
                "__import__('os').environ.get('OMP_NUM_THREADS')",
                "__import__('os').environ.get('SB_INHERITED')",
                "__import__('os').environ.get('SB_GIVEN')");
    }

    @Test
    void aVenvInterpreterStillSeesItsOwnSitePackages() {
        Path venv = dir.resolve("venv");
        PythonInfo.eval(ChildJvm.PYTHON, "import sys, venv; venv.create(sys.argv[1], with_pip=False)", Map.of(), venv.toString());
        Path python = venv.resolve("bin").resolve("python");
        Path sitePackages = Path.of(PythonInfo.eval(python.toString(), "import sysconfig; print(sysconfig.get_paths()['purelib'])"));
        try {
            Files.writeString(sitePackages.resolve("sb_venv_only.py"), "WHERE = 'venv'\n");
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        try (BridgeConnection py = SnakeBridge.connect(BridgeConfig.builder().python(python.toString()).build())) {
            assertThat(py.getAttr("sb_venv_only.WHERE").asString()).isEqualTo("venv");
        }
    }

    private static String value(int index) {
        probe.assertSucceeded();
        return probe.values().get(index);
    }

    @Test
    void aStatisticsModuleInTheWorkingDirectoryDoesNotShadowTheStandardLibrary() {
        assertThat(Path.of(value(0)).startsWith(work)).as("statistics from %s", value(0)).isFalse();
    }

    @Test
    void aSnakebridgeWorkerPackageInTheWorkingDirectoryDoesNotReplaceTheWorker() {
        assertThat(probe.stderr()).doesNotContain("planted worker ran");
        assertThat(Path.of(value(1))).startsWith(dir.resolve("cache"));
    }

    @Test
    void aPthFileInTheUserSiteDoesNotRunInTheWorker() {
        assertThat(value(2)).isEqualTo("false");
    }

    @Test
    void neitherTheWorkingDirectoryNorAnInheritedPythonpathIsOnTheWorkersPath() {
        List<String> path = Arrays.asList(value(3).split("\\|"));
        assertThat(path).doesNotContain("", ".", work.toString(), inheritedPythonPath.toString());
    }

    @Test
    void theWorkerSeesOnlyTheAllowListedVariablesAndThoseConfigured() {
        List<String> names = Arrays.asList(value(4).split("\\|"));
        assertThat(names).doesNotContain("SB_SECRET", "PYTHONPATH", "PYTHONUSERBASE", "XDG_CACHE_HOME")
                .allMatch(name -> WorkerLaunch.inheritsByDefault(name)
                        || List.of("SB_INHERITED", "SB_GIVEN", "SNAKEBRIDGE_PARENT_PID").contains(name), "allow-listed or configured");
        assertThat(value(5)).as("OMP_NUM_THREADS").isEqualTo("3");
        assertThat(value(6)).as("SB_INHERITED").isEqualTo("by name");
        assertThat(value(7)).as("SB_GIVEN").isEqualTo("given");
    }
}

package io.snakebridge.shim;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class WorkerProcessTest {

    private static WorkerProcess sh(String script) throws Exception {
        return WorkerProcess.start(List.of("sh", "-c", script), Map.of());
    }

    @Test
    void startWithExactEnvironmentPassesOnlyTheGivenVariablesTheParentPidAndTheLogNonce() throws Exception {
        // No PATH given: the command is still found on this JVM's PATH, and the child sees none of it.
        WorkerProcess p = WorkerProcess.startWithExactEnvironment(List.of("env"), Map.of("ONLY_THIS", "1"));
        String printed = new String(p.protocolInput().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        p.close();
        assertThat(printed.lines().filter(line -> !line.startsWith(StderrPump.NONCE_VARIABLE + "=")))
                .containsExactlyInAnyOrder("ONLY_THIS=1", "SNAKEBRIDGE_PARENT_PID=" + ProcessHandle.current().pid());
        assertThat(printed.lines().filter(line -> line.startsWith(StderrPump.NONCE_VARIABLE + "="))).hasSize(1);
    }

    @Test
    void startAddsTheGivenVariablesToThisJvmsEnvironment() throws Exception {
        WorkerProcess p = WorkerProcess.start(List.of("env"), Map.of("ADDED", "1"));
        String printed = new String(p.protocolInput().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        p.close();
        assertThat(printed.lines()).contains("ADDED=1", "PATH=" + System.getenv("PATH"));
    }

    @Test
    void stderrLinesAreKeptAsABoundedTail() throws Exception {
        WorkerProcess p = sh("for i in $(seq 1 100); do echo line$i >&2; done");
        assertThat(p.awaitExit(Duration.ofSeconds(10))).isTrue();
        p.drainStderr(Duration.ofSeconds(5));
        List<String> tail = p.recentStderr();
        assertThat(tail).hasSize(40).endsWith("line100").startsWith("line61");
        p.close();
    }

    @Test
    void shutdownEndsAWorkerThatExitsOnEof() throws Exception {
        WorkerProcess p = sh("cat > /dev/null; exit 0");
        p.shutdown(Duration.ofSeconds(5));
        assertThat(p.isAlive()).isFalse();
        assertThat(p.exitDescription()).isEqualTo("exit code 0");
    }

    @Test
    void shutdownEscalatesToSigtermWhenEofIsIgnored() throws Exception {
        WorkerProcess p = sh("exec sleep 60");
        p.shutdown(Duration.ofMillis(200));
        assertThat(p.isAlive()).isFalse();
        assertThat(p.exitDescription()).isEqualTo("killed by SIGTERM");
    }

    @Test
    void shutdownEscalatesToSigkillWhenSigtermIsIgnored() throws Exception {
        WorkerProcess p = sh("trap '' TERM; while true; do sleep 0.05; done");
        Thread.sleep(200); // let the shell install its trap
        p.shutdown(Duration.ofMillis(200));
        assertThat(p.isAlive()).isFalse();
        assertThat(p.exitDescription()).isEqualTo("killed by SIGKILL");
    }

    @Test
    void exitCodeIsReported() throws Exception {
        WorkerProcess p = sh("exit 7");
        p.awaitExit(Duration.ofSeconds(10));
        assertThat(p.exitDescription()).isEqualTo("exit code 7");
        p.close();
    }

    /**
     * prctl(PR_SET_PDEATHSIG) ties a child to the thread that spawned it. The child says when it armed
     * it; the test waits until the spawning thread is gone from /proc (its exit, and any death
     * signal, has happened), then asks the child to answer: a child the signal killed cannot.
     */
    @Test
    @org.junit.jupiter.api.Timeout(60)
    void aWorkerSpawnedFromAThreadThatEndsKeepsRunning() throws Exception {
        WorkerProcess[] spawned = new WorkerProcess[1];
        String[] spawningThread = new String[1];
        BufferedReader[] childSays = new BufferedReader[1];
        String[] said = new String[1];
        Thread shortLived = new Thread(() -> {
            try {
                spawningThread[0] = Files.readSymbolicLink(Path.of("/proc/thread-self")).getFileName().toString();
                spawned[0] = WorkerProcess.start(List.of("python3", "-c", "import ctypes, signal, sys, time\n"
                        + "ctypes.CDLL(None).prctl(1, signal.SIGKILL, 0, 0, 0)\nprint('armed', flush=True)\n"
                        + "sys.stdin.readline()\nprint('alive', flush=True)\ntime.sleep(30)"), Map.of());
                childSays[0] = new BufferedReader(new InputStreamReader(spawned[0].protocolInput(), StandardCharsets.UTF_8));
                said[0] = childSays[0].readLine(); // end this thread only once the child's prctl took effect
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
        shortLived.start();
        shortLived.join();
        try {
            assertThat(said[0]).isEqualTo("armed");
            Path task = Path.of("/proc/self/task", spawningThread[0]);
            while (Files.exists(task)) {
                Thread.sleep(10);
            }
            spawned[0].protocolOutput().write("ping\n".getBytes(StandardCharsets.UTF_8));
            spawned[0].protocolOutput().flush();
            assertThat(childSays[0].readLine()).as("the child's answer after its spawning thread ended").isEqualTo("alive");
        } finally {
            spawned[0].kill();
        }
    }

    @Test
    void theWorkerIsToldItsParentPid() throws Exception {
        WorkerProcess p = sh("echo $SNAKEBRIDGE_PARENT_PID >&2");
        p.awaitExit(Duration.ofSeconds(10));
        p.drainStderr(Duration.ofSeconds(5));
        assertThat(p.recentStderr()).containsExactly(Long.toString(ProcessHandle.current().pid()));
    }

    @Test
    void anAddressSpaceLimitMakesLargeAllocationsFailInTheWorker() throws Exception {
        WorkerProcess p = WorkerProcess.start(List.of("python3", "-c",
                "import sys; sys.stdin.read(); bytearray(1 << 30)"), Map.of());
        assertThat(p.limitAddressSpace(256L << 20)).isTrue();
        p.protocolOutput().close();
        p.awaitExit(Duration.ofSeconds(10));
        p.drainStderr(Duration.ofSeconds(5));
        assertThat(p.recentStderr()).anyMatch(line -> line.contains("MemoryError"));
    }
}

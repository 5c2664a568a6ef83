package io.snakebridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every supervision rule, for a forked worker; {@link SpawnedSupervisionTest} runs them all for a spawned one. */
class SupervisionTest extends SharedWorkerTest {
    /** How this class's workers start. */
    WorkerStart mode() {
        return WorkerStart.FORK;
    }

    BridgeConfig.Builder config() {
        return Workers.config().workerStart(mode());
    }

    WorkerConnection connect() {
        return Workers.connect(config());
    }

    WorkerConnection connect(BridgeConfig.Builder config) {
        return Workers.connect(config);
    }

    /** The shared worker, which must keep working while other workers fail. */
    private static WorkerConnection bystander() {
        return SharedWorkerTest.py;
    }

    static ScheduledExecutorService timer;

    @org.junit.jupiter.api.BeforeAll
    static void startTimer() { // per class: the spawned run follows the forked one
        timer = Executors.newSingleThreadScheduledExecutor();
    }

    @AfterAll
    static void stopTimer() {
        timer.shutdownNow();
    }

    private static void assertBystanderWorks() {
        assertThat(bystander().call("math.sqrt", 81.0).asDouble()).isEqualTo(9.0);
    }

    @Test
    @org.junit.jupiter.api.Timeout(120)
    void cancelInterruptsASleepingCallAndTheSessionAndItsRefsSurvive(@TempDir Path dir) {
        try (WorkerConnection py = connect()) {
            RefHandle counter = py.callRef("sb_fixtures.Counter", 41);
            Path mark = dir.resolve("running");
            var cancelled = Workers.cancelOnceRunning(() -> Files.exists(mark), py::cancel);
            long start = System.nanoTime();
            assertThatThrownBy(() -> py.call("sb_fixtures.mark_then_sleep", mark.toString(), 60))
                    .isInstanceOfSatisfying(CallCancelledException.class, e -> {
                assertThat(e.workerKilled()).isFalse();
                assertThat(e.sqlState()).isEqualTo("57014");
            });
            // Interrupted by SIGINT, not by the SIGKILL that would follow after cancelGrace:
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(BridgeConfig.defaults().cancelGrace());
            assertThat(cancelled.join()).as("the call marked that it runs").isTrue();
            assertThat(counter.call("add").asLong()).isEqualTo(42);
            assertThat(py.isClosed()).isFalse();
        }
    }

    @Test
    void cancelWithNoCallRunningDoesNothing() {
        try (WorkerConnection py = connect()) {
            py.cancel();
            assertThat(py.call("len", "abc").asLong()).isEqualTo(3);
        }
    }

    @Test
    void callTimeoutInterruptsAPurePythonBusyLoopAndTheNextCallWorks() {
        try (WorkerConnection py = connect(config().callTimeout(Duration.ofMillis(500)))) {
            RefHandle counter = py.callRef("sb_fixtures.Counter", 1);
            assertThatThrownBy(() -> py.call("sb_fixtures.busy_forever")).isInstanceOfSatisfying(CallTimeoutException.class, e -> {
                assertThat(e.workerKilled()).isFalse();
                assertThat(e.sqlState()).isEqualTo("57014");
                assertThat(e.getMessage()).contains("PT0.5S");
            });
            assertThat(counter.call("add").asLong()).isEqualTo(2);
        }
    }

    @Test
    void aPerCallTimeoutOverridesTheConfiguredOne() {
        try (WorkerConnection py = connect()) {
            assertThatThrownBy(() -> py.withCallTimeout(Duration.ofMillis(300), c -> c.call("time.sleep", 60)))
                    .isInstanceOf(CallTimeoutException.class);
            assertThat(py.call("time.sleep", 0.5).isNone()).isTrue(); // outside the override: no timeout
        }
    }

    @Test
    void callTimeoutDoesNotApplyWhileTheWorkerStarts(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Path slow = dir.resolve("python-slow-start");
        java.nio.file.Files.writeString(slow, "#!/bin/sh\nsleep 1\nexec " + config().build().python() + " \"$@\"\n");
        assertThat(slow.toFile().setExecutable(true)).isTrue();
        try (WorkerConnection py = connect(config().python(slow.toString()).callTimeout(Duration.ofMillis(200)))) {
            assertThat(py.call("abs", -1).asLong()).isEqualTo(1);
        }
    }

    @Test
    void aWorkerThatIgnoresSigintIsKilledAfterTheGraceAndTheConnectionIsBroken() {
        try (WorkerConnection py = connect(config().callTimeout(Duration.ofMillis(300)).cancelGrace(Duration.ofMillis(500)))) {
            assertThatThrownBy(() -> py.call("sb_fixtures.block_sigint_and_sleep", 60))
                    .isInstanceOfSatisfying(CallTimeoutException.class, e -> {
                        assertThat(e.workerKilled()).isTrue();
                        assertThat(e.sqlState()).isEqualTo("08006");
                    });
            assertThat(py.isClosed()).isTrue();
            assertThatThrownBy(py::ping).isInstanceOf(BridgeClosedException.class);
        }
        assertBystanderWorks();
    }

    @Test
    void aSegfaultMidCallIsAWorkerCrashWithSignalAndFaulthandlerTraceback() {
        try (WorkerConnection py = connect()) {
            RefHandle counter = py.callRef("sb_fixtures.Counter");
            assertThatThrownBy(() -> py.call("sb_fixtures.crash_with_segfault")).isInstanceOfSatisfying(WorkerCrashedException.class, e -> {
                assertThat(e.exitDescription()).isEqualTo("killed by SIGSEGV");
                assertThat(e.stderrTail()).anyMatch(line -> line.contains("Segmentation fault"));
                assertThat(e.stderrTail()).anyMatch(line -> line.contains("crash_with_segfault"));
                assertThat(e.getMessage()).contains("crash_with_segfault");
            });
            assertThatThrownBy(() -> counter.call("add")).isInstanceOfSatisfying(RefNotFoundException.class,
                    e -> assertThat(e.reason()).isEqualTo(RefNotFoundException.Reason.WORKER_RESTARTED));
        }
        assertBystanderWorks();
    }

    @Test
    void sigkillMidCallIsAWorkerCrashWithTheSignal() throws Exception {
        try (WorkerConnection py = connect()) {
            long pid = py.call("os.getpid").asLong();
            timer.schedule(() -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly), 300, TimeUnit.MILLISECONDS);
            assertThatThrownBy(() -> py.call("time.sleep", 60)).isInstanceOfSatisfying(WorkerCrashedException.class,
                    e -> assertThat(e.exitDescription()).isEqualTo("killed by SIGKILL"));
        }
        assertBystanderWorks();
    }

    @Test
    void aMemoryLimitTurnsAHugeAllocationIntoMemoryErrorAndTheSessionSurvives() {
        try (WorkerConnection py = connect(config().memoryLimitBytes(256L << 20))) {
            assertThatThrownBy(() -> py.call("bytearray", 1L << 30)).isInstanceOfSatisfying(PythonException.class,
                    e -> assertThat(e.pythonType()).isEqualTo("MemoryError"));
            assertThat(py.call("len", "still alive").asLong()).isEqualTo(11);
        }
    }

    @Test
    void aPythonThatIsTooOldIsAWorkerStartErrorShowingWhy(@TempDir Path dir) throws Exception {
        // Called as "python3.8 -I -c BOOTSTRAP paths...": runs the bootstrap after one line that makes Python look old.
        Path old = ConnectionTest.fakeInterpreter(dir, "python3.8", "bootstrap=$3; shift 3\nexec "
                + System.getProperty("snakebridge.python", "python3") + " -I -c \"import sys; sys.version_info = (3, 8, 0)\n$bootstrap\" \"$@\"");
        assertThatThrownBy(() -> SnakeBridge.connect(BridgeConfig.builder().python(old.toString()).workerStart(mode()).build()))
                .isInstanceOf(WorkerStartException.class)
                .hasMessageContaining("needs Python >= 3.10")
                .hasMessageContaining(old.toString());
    }

    @Test
    void workersDieWithAJvmKilledBySigkill() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), OrphanProbe.class.getName(),
                System.getProperty("snakebridge.python", "python3"), mode().name()).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        long workerPid;
        long parentPid; // the JVM, or the worker server that forked the worker
        try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            String[] pids = out.readLine().trim().split(" ");
            workerPid = Long.parseLong(pids[0]);
            parentPid = Long.parseLong(pids[1]);
            assertThat(ProcessHandle.of(workerPid)).hasValueSatisfying(p -> assertThat(p.isAlive()).isTrue());
            child.destroyForcibly(); // SIGKILL: no shutdown hook runs
            child.waitFor(10, TimeUnit.SECONDS);
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(2).toNanos();
        while ((alive(workerPid) || alive(parentPid)) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(alive(workerPid)).as("worker %d alive", workerPid).isFalse();
        assertThat(alive(parentPid)).as("its parent %d (the JVM or its worker server) alive", parentPid).isFalse();
    }

    private static boolean alive(long pid) {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    @Test
    void twoHundredConnectCloseCyclesLeaveNoProcessesThreadsOrFileDescriptors() throws Exception {
        connect().close(); // warm up the driver's shared threads (spawner, watchdog, cleaner)
        Resources before = Resources.now();
        for (int i = 0; i < 200; i++) {
            try (BridgeConnection py = connect()) {
                py.ping();
            }
        }
        // A leak would leave ~200 of something; 5 s is only for the last worker's pipes and stderr
        // pump, which the JDK's process reaper and EOF close asynchronously after the worker exits.
        Resources after = Resources.awaitNoMoreThan(before, Duration.ofSeconds(5));
        assertThat(after.children()).isEqualTo(before.children());
        assertThat(after.threads()).as("threads before: %s", before.threads()).hasSizeLessThanOrEqualTo(before.threads().size());
        assertThat(after.fds()).as("fds before: %s", before.fds()).hasSizeLessThanOrEqualTo(before.fds().size());
    }

    /** The JVM's child processes, threads and open file descriptors, by name, at one moment. */
    private record Resources(long children, List<String> threads, List<String> fds) {
        /**
         * The JDK's process reaper is a cached pool: an idle "process reaper" thread lingers 60 s after
         * a burst of exits. It is the JDK's, bounded by how many workers exited at once, so not ours
         * to count; a reaper still waiting on a process is named for its pid and is counted.
         */
        private static final String IDLE_JDK_REAPER = "process reaper";

        static Resources now() throws Exception {
            List<String> threads = Thread.getAllStackTraces().keySet().stream().map(Thread::getName)
                    .filter(name -> !name.equals(IDLE_JDK_REAPER)).sorted().toList();
            List<String> fds;
            try (var entries = Files.list(Path.of("/proc/self/fd"))) {
                fds = entries.map(SupervisionTest::describeFd).sorted().toList();
            }
            return new Resources(ProcessHandle.current().children().filter(ProcessHandle::isAlive).count(), threads, fds);
        }

        /** Polls until no figure exceeds {@code bound}'s, or {@code timeout} passes; returns the last reading. */
        static Resources awaitNoMoreThan(Resources bound, Duration timeout) throws Exception {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (true) {
                Resources now = now();
                boolean settled = now.children <= bound.children && now.threads.size() <= bound.threads.size()
                        && now.fds.size() <= bound.fds.size();
                if (settled || System.nanoTime() >= deadline) {
                    return now;
                }
                Thread.sleep(50);
            }
        }
    }

    private static String describeFd(Path fd) {
        try {
            return fd.getFileName() + " -> " + Files.readSymbolicLink(fd);
        } catch (Exception e) {
            return fd.getFileName() + " (closed while listed)";
        }
    }
}

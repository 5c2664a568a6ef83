package io.snakebridge.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.snakebridge.Batch;
import io.snakebridge.BridgeClosedException;
import io.snakebridge.BridgeConnection;
import io.snakebridge.PreparedCall;
import io.snakebridge.PyCursor;
import io.snakebridge.PythonException;
import io.snakebridge.RefHandle;
import io.snakebridge.RefNotFoundException;
import io.snakebridge.WorkerCrashedException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class BridgePoolTest {

    @Test
    void borrowingFromAClosedPoolIsBridgeClosedWith08003() {
        BridgePool pool = new BridgePool(Pools.config(1).build());
        pool.close();
        assertThatThrownBy(pool::getConnection).isInstanceOfSatisfying(io.snakebridge.BridgeClosedException.class,
                e -> assertThat(e.sqlState()).isEqualTo("08003"));
    }

    @Test
    void aRefTakenByOneBorrowerIsUnusableByTheNextAndTheWorkerHoldsNoneOfIt() {
        try (BridgePool pool = new BridgePool(Pools.config(1).build())) {
            RefHandle leftOpen;
            String firstSession;
            long pid;
            try (BridgeConnection first = pool.getConnection()) {
                pid = Pools.workerPid(first);
                firstSession = first.sessionId();
                leftOpen = first.callRef("types.SimpleNamespace");
                leftOpen.setAttr("secret", 42);
                first.callRef("types.SimpleNamespace");
                assertThat(first.workerLiveRefs()).isEqualTo(2);
            }
            try (BridgeConnection second = pool.getConnection()) {
                assertThat(Pools.workerPid(second)).isEqualTo(pid); // the same worker, lent again
                assertThat(second.sessionId()).isNotEqualTo(firstSession);
                assertThat(second.workerLiveRefs()).isZero();
                assertThatThrownBy(() -> leftOpen.getAttr("secret")).isInstanceOfSatisfying(RefNotFoundException.class,
                        e -> assertThat(e.reason()).isEqualTo(RefNotFoundException.Reason.SESSION_RELEASED));
                assertThatThrownBy(() -> second.call("getattr", leftOpen, "secret")).isInstanceOf(RefNotFoundException.class);
            }
        }
    }

    @Test
    void aPreparedCallLeftOpenByOneBorrowerIsUnusableByTheNext() {
        try (BridgePool pool = new BridgePool(Pools.config(1).build())) {
            PreparedCall leftOpen;
            try (BridgeConnection first = pool.getConnection()) {
                leftOpen = first.prepare("math.sqrt");
                assertThat(leftOpen.call(4.0).asDouble()).isEqualTo(2.0);
            }
            try (BridgeConnection second = pool.getConnection()) {
                assertThat(second.workerLiveRefs()).isZero();
                assertThat(leftOpen.isClosed()).isTrue();
                assertThatThrownBy(() -> leftOpen.call(4.0)).isInstanceOfSatisfying(RefNotFoundException.class,
                        e -> assertThat(e.reason()).isEqualTo(RefNotFoundException.Reason.SESSION_RELEASED));
                assertThatThrownBy(() -> leftOpen.addBatch(4.0).executeBatch()).isInstanceOf(RefNotFoundException.class);
            }
        }
    }

    /** Sets {@code math.pi} to 3 in the borrowed worker: module state, which a session reset does not touch. */
    private static void breakMathPi(BridgeConnection py) {
        try (RefHandle math = py.getAttr("math").asRef()) {
            math.setAttr("pi", 3);
        }
    }

    @Test
    void sessionIsolationResetsRefsButModuleStateSurvivesIntoTheNextBorrow() {
        try (BridgePool pool = new BridgePool(Pools.config(1).build())) {
            long pid;
            try (BridgeConnection first = pool.getConnection()) {
                pid = Pools.workerPid(first);
                breakMathPi(first);
            }
            try (BridgeConnection second = pool.getConnection()) {
                assertThat(Pools.workerPid(second)).isEqualTo(pid);
                assertThat(second.getAttr("math.pi").asDouble()).as("documented: module state persists").isEqualTo(3.0);
            }
        }
    }

    @Test
    void processIsolationGivesEveryBorrowAWorkerNoEarlierBorrowerTouched() {
        try (BridgePool pool = new BridgePool(Pools.config(1).borrowIsolation(BorrowIsolation.PROCESS).build())) {
            java.util.Set<Long> pids = new java.util.HashSet<>();
            for (int borrow = 0; borrow < 3; borrow++) {
                try (BridgeConnection py = pool.getConnection()) {
                    assertThat(py.getAttr("math.pi").asDouble()).isEqualTo(Math.PI);
                    assertThat(pids.add(Pools.workerPid(py))).as("a fresh worker for borrow %d", borrow).isTrue();
                    breakMathPi(py);
                }
            }
            assertThat(pool.evictions()).as("a retired worker is not a broken one").isZero();
            for (long pid : pids) { // a retired worker is stopped, not left running beside its replacement
                ProcessHandle.of(pid).ifPresent(worker -> assertThat(worker.onExit()
                        .completeOnTimeout(null, 10, java.util.concurrent.TimeUnit.SECONDS).join()).as("worker %d exits", pid).isNotNull());
            }
        }
    }

    @Test
    void aWorkerThatDiedWhileIdleIsEvictedAtBorrowInsteadOfFailingTheBorrowersFirstCall() throws Exception {
        try (BridgePool pool = new BridgePool(Pools.config(2).build())) {
            java.util.Set<Long> killed = new java.util.HashSet<>();
            try (BridgeConnection a = pool.getConnection(); BridgeConnection b = pool.getConnection()) {
                killed.add(Pools.workerPid(a));
                killed.add(Pools.workerPid(b));
            }
            // Idle, and used a moment ago: HikariCP lends a connection idle for less than 500 ms unchecked.
            killed.forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
            Thread.sleep(50); // a forked worker's end reaches the driver from its server, a millisecond after the exit
            for (int borrow = 0; borrow < 2; borrow++) {
                try (BridgeConnection py = pool.getConnection()) {
                    assertThat(killed).doesNotContain(Pools.workerPid(py)); // the call works: never a dead worker
                }
            }
        }
    }

    @Test
    void everyIdleWorkerSigkilledIsReplacedAndTheNextBorrowsFirstCallsSucceed() throws Exception {
        try (BridgePool pool = new BridgePool(Pools.config(3).build())) {
            java.util.List<BridgeConnection> all = java.util.List.of(pool.getConnection(), pool.getConnection(), pool.getConnection());
            java.util.Set<Long> killed = new java.util.HashSet<>();
            for (BridgeConnection py : all) {
                killed.add(Pools.workerPid(py));
            }
            all.forEach(BridgeConnection::close);
            for (long pid : killed) {
                Pools.kill(pid); // returns once the process is gone
            }
            for (int borrow = 0; borrow < 6; borrow++) {
                try (BridgeConnection py = pool.getConnection()) {
                    assertThat(killed).doesNotContain(Pools.workerPid(py)); // its first call succeeds
                }
            }
            assertThat(pool.evictions()).isEqualTo(3);
            assertThat(pool.totalConnections()).isLessThanOrEqualTo(3);
        }
    }

    @Test
    void aReturnedConnectionCannotBeUsedByItsFormerBorrower() {
        try (BridgePool pool = new BridgePool(Pools.config(1).build())) {
            BridgeConnection py = pool.getConnection();
            py.close();
            py.close();
            assertThatThrownBy(() -> py.call("len", "x")).isInstanceOf(BridgeClosedException.class);
        }
    }

    @Test
    void aKilledWorkersConnectionIsEvictedAndReplaced() throws Exception {
        try (BridgePool pool = new BridgePool(Pools.config(1).build())) {
            long firstPid;
            try (BridgeConnection py = pool.getConnection()) {
                firstPid = Pools.workerPid(py);
                Pools.kill(firstPid);
                assertThatThrownBy(() -> py.call("len", "x")).isInstanceOf(WorkerCrashedException.class);
            }
            assertThat(pool.evictions()).isEqualTo(1);
            try (BridgeConnection py = pool.getConnection()) {
                assertThat(Pools.workerPid(py)).isNotEqualTo(firstPid);
                assertThat(py.call("len", "abc").asLong()).isEqualTo(3);
            }
        }
    }

    @Test
    void aWorkerDeathFoundByAnAsyncCallEvictsTheConnectionBeforeItIsReturned() throws Exception {
        try (BridgePool pool = new BridgePool(Pools.config(1).build())) {
            try (BridgeConnection py = pool.getConnection()) {
                Pools.kill(Pools.workerPid(py));
                assertThatThrownBy(() -> py.callAsync("len", "x").join()).hasCauseInstanceOf(WorkerCrashedException.class);
                assertThat(pool.evictions()).as("evicted while still borrowed").isEqualTo(1);
            }
            assertThat(pool.evictions()).isEqualTo(1);
        }
    }

    @Test
    void metricsTimeEveryRequestPathOfABorrower() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (BridgePool pool = new BridgePool(Pools.config(1).poolName("paths").metricRegistry(registry).build());
                BridgeConnection py = pool.getConnection()) {
            py.callAsync("len", "x").join();
            Batch batch = py.batch();
            batch.call("len", "ab");
            batch.execute();
            try (RefHandle numbers = py.callRef("range", 3); PyCursor cursor = numbers.iterate(10)) {
                cursor.forEachRemaining(item -> { });
                numbers.call("count", 1);
            }
            // async len, batch, callRef range, iter, stream_next, count, and the releases of the iterator and the range
            assertThat(registry.get("snakebridge.calls").tag("pool", "paths").timer().count()).isEqualTo(8);
        }
    }

    @Test
    void metricsCountCallsPythonErrorsCrashesEvictionsAndRefsLeftOpen() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (BridgePool pool = new BridgePool(Pools.config(1).poolName("m").metricRegistry(registry).build())) {
            try (BridgeConnection py = pool.getConnection()) {
                py.call("len", "x");
                py.callRef("object");
                assertThatThrownBy(() -> py.call("operator.truediv", 1, 0)).isInstanceOf(PythonException.class);
            }
            try (BridgeConnection py = pool.getConnection()) {
                Pools.kill(Pools.workerPid(py));
                assertThatThrownBy(py::ping).isInstanceOf(WorkerCrashedException.class);
            }
            assertThat(registry.get("snakebridge.calls").tag("pool", "m").timer().count()).isEqualTo(5); // len, object, truediv, getpid, ping
            assertThat(registry.get("snakebridge.python.errors").tag("type", "ZeroDivisionError").counter().count()).isEqualTo(1);
            assertThat(registry.get("snakebridge.worker.crashes").counter().count()).isEqualTo(1);
            assertThat(registry.get("snakebridge.evictions").tag("reason", "worker_died").counter().count()).isEqualTo(1);
            assertThat(registry.get("snakebridge.refs.released.on.return").summary().totalAmount()).isEqualTo(1);
            assertThat(registry.find("hikaricp.connections").tag("pool", "m").gauge()).isNotNull();
        }
    }

    @Test
    void aPoolWhoseWorkersCannotStartFailsWithAWorkerStartError() {
        assertThatThrownBy(() -> new BridgePool(BridgePoolConfig.builder()
                .bridge(io.snakebridge.BridgeConfig.builder().python("/no/such/python").build())
                .connectionTimeout(Duration.ofSeconds(1)).build()))
                .isInstanceOf(io.snakebridge.WorkerStartException.class)
                .hasMessageContaining("/no/such/python");
    }

    @Test
    void readmePoolSettingsTableMatchesTheDefaultsInCode() throws IOException {
        BridgePoolConfig d = BridgePoolConfig.defaults();
        Map<String, String> inCode = new LinkedHashMap<>();
        inCode.put("poolSize", String.valueOf(d.poolSize()));
        inCode.put("minimumIdle", "poolSize");
        inCode.put("maxLifetime", d.maxLifetime().toString());
        inCode.put("idleTimeout", d.idleTimeout().toString());
        inCode.put("connectionTimeout", d.connectionTimeout().toString());
        inCode.put("leakDetectionThreshold", d.leakDetectionThreshold().toString());
        inCode.put("poolName", d.poolName());
        inCode.put("metricRegistry", "none");
        inCode.put("borrowIsolation", d.borrowIsolation().name());
        assertThat(d.minimumIdle()).isEqualTo(d.poolSize());
        assertThat(d.metricRegistry()).isNull();

        String readme = Files.readString(Path.of("..", "README.md"));
        String table = readme.substring(readme.indexOf("<!-- pool-settings:start -->"), readme.indexOf("<!-- pool-settings:end -->"));
        Map<String, String> documented = new LinkedHashMap<>();
        Matcher m = Pattern.compile("^\\| `([^`]+)` \\| `([^`]*)` \\|", Pattern.MULTILINE).matcher(table);
        while (m.find()) {
            documented.put(m.group(1), m.group(2));
        }
        assertThat(documented).containsExactlyEntriesOf(inCode);
    }
}

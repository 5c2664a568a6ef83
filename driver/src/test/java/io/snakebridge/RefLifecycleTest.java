package io.snakebridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class RefLifecycleTest {
    WorkerConnection py;

    @BeforeEach
    void start() {
        py = Workers.connect();
    }

    @AfterEach
    void stop() {
        py.close();
    }

    private static RefNotFoundException.Reason reasonOf(Runnable use) {
        try {
            use.run();
        } catch (RefNotFoundException e) {
            return e.reason();
        }
        throw new AssertionError("expected RefNotFoundException");
    }

    @Test
    void refSupportsMethodCallsAttributeGetSetAndPassBackAsArgument() {
        try (RefHandle counter = py.callRef("sb_fixtures.Counter", 10)) {
            assertThat(counter.typeName()).isEqualTo("Counter");
            assertThat(counter.pythonModule()).isEqualTo("sb_fixtures");
            assertThat(counter.sessionId()).isEqualTo(py.sessionId());
            assertThat(counter.call("add", 5).asLong()).isEqualTo(15);
            counter.setAttr("count", 100);
            assertThat(counter.getAttr("count").asLong()).isEqualTo(100);
            assertThat(py.call("sb_fixtures.read_count", counter).asLong()).isEqualTo(100);
            assertThat(py.liveRefs()).isEqualTo(1);
        }
        assertThat(py.liveRefs()).isZero();
    }

    @Test
    void refsNestedInContainersAreHandlesAndOneObjectIsOneRef() {
        try (PyValue pair = py.call("sb_fixtures.make_pair_with_objects")) {
            List<Object> items = (List<Object>) pair.asMap().get("items");
            assertThat(items.get(0)).isSameAs(items.get(1)).isInstanceOf(RefHandle.class);
            assertThat(pair.refs()).hasSize(2);
            assertThat(pair.asMap().get("n")).isEqualTo(2L);
            assertThat(py.liveRefs()).isEqualTo(2);
        }
        assertThat(py.liveRefs()).isZero();
    }

    @Test
    void releasedRefFailsWithReasonReleased() {
        RefHandle counter = py.callRef("sb_fixtures.Counter");
        Ref forged = new Ref(py, "ref", counter.id(), py.sessionId(), "", "Counter", null, null);
        counter.close();
        assertThat(reasonOf(() -> forged.call("add"))).isEqualTo(RefNotFoundException.Reason.RELEASED);
    }

    @Test
    void closeIsIdempotentAndAClosedHandleFailsFastWithoutARoundTrip() {
        RefHandle counter = py.callRef("sb_fixtures.Counter");
        counter.close();
        counter.close();
        long before = py.requestsSent();
        assertThatThrownBy(() -> counter.call("add")).isInstanceOfSatisfying(InvalidRefException.class, e -> {
            assertThat(e.reason()).isEqualTo(InvalidRefException.Reason.CLOSED_HANDLE);
            assertThat(e.sqlState()).isEqualTo("24000");
        });
        assertThatThrownBy(() -> py.call("sb_fixtures.read_count", counter)).isInstanceOf(InvalidRefException.class);
        assertThat(py.requestsSent()).isEqualTo(before);
    }

    @Test
    void closingTheConnectionClosesEveryHandleOfIt() {
        WorkerConnection other = Workers.connect();
        RefHandle counter = other.callRef("sb_fixtures.Counter");
        other.close();
        assertThat(counter.isClosed()).isTrue();
        assertThatThrownBy(() -> counter.call("add")).isInstanceOfSatisfying(InvalidRefException.class,
                e -> assertThat(e.reason()).isEqualTo(InvalidRefException.Reason.CLOSED_HANDLE));
        counter.close();
    }

    @Test
    void sessionResetReleasesEveryRefAndOldHandlesFailFastWithSessionReleased() {
        RefHandle counter = py.callRef("sb_fixtures.Counter");
        String oldSession = py.sessionId();
        py.resetSession();
        assertThat(py.sessionId()).isNotEqualTo(oldSession);
        assertThat(py.liveRefs()).isZero();
        long before = py.requestsSent();
        assertThat(reasonOf(() -> counter.call("add"))).isEqualTo(RefNotFoundException.Reason.SESSION_RELEASED);
        assertThat(py.requestsSent()).isEqualTo(before);
        Ref forged = new Ref(py, "ref", counter.id(), py.sessionId(), "", "Counter", null, null);
        assertThatThrownBy(() -> forged.call("add")).isInstanceOf(SessionMismatchException.class);
    }

    @Test
    void anIdNeverIssuedIsUnknown() {
        Ref forged = new Ref(py, "ref", "0123456789abcdef0123456789abcdef", py.sessionId(), "", "?", null, null);
        assertThatThrownBy(() -> forged.call("add")).isInstanceOfSatisfying(RefNotFoundException.class, e -> {
            assertThat(e.reason()).isEqualTo(RefNotFoundException.Reason.UNKNOWN);
            assertThat(e.refId()).isEqualTo("0123456789abcdef0123456789abcdef");
            assertThat(e.sessionId()).isEqualTo(py.sessionId());
            assertThat(e.sqlState()).isEqualTo("34000");
        });
    }

    @Test
    void aRefOfAnEarlierWorkerReportsWorkerRestarted() {
        Ref stale = new Ref(py, "ref", "0123456789abcdef0123456789abcdef", py.sessionId(), "", "?", "an-earlier-worker", null);
        assertThat(reasonOf(() -> stale.call("add"))).isEqualTo(RefNotFoundException.Reason.WORKER_RESTARTED);
    }

    @Test
    void aMalformedRefIsAnInvalidRef() {
        Ref noId = new Ref(py, "ref", "", py.sessionId(), "", "?", null, null);
        assertThatThrownBy(() -> noId.call("add")).isInstanceOfSatisfying(InvalidRefException.class, e -> {
            assertThat(e.reason()).isEqualTo(InvalidRefException.Reason.MISSING_ID);
            assertThat(e.sqlState()).isEqualTo("22023");
        });
    }

    @Test
    void aHandleOfConnectionAPassedToConnectionBIsASessionMismatch() {
        try (WorkerConnection other = Workers.connect(); RefHandle theirs = other.callRef("sb_fixtures.Counter", 5)) {
            assertThatThrownBy(() -> py.call("sb_fixtures.read_count", theirs))
                    .isInstanceOfSatisfying(SessionMismatchException.class, e -> {
                        assertThat(e.expectedSessionId()).isEqualTo(py.sessionId());
                        assertThat(e.actualSessionId()).isEqualTo(other.sessionId());
                        assertThat(e.refId()).isEqualTo(theirs.id());
                    });
            assertThat(theirs.call("add").asLong()).isEqualTo(6);
        }
    }

    @Test
    void overMaxRefsTheDefaultPolicyRejectsAndTheSessionStaysUsable() {
        try (WorkerConnection small = Workers.connect(Workers.config().maxRefs(3))) {
            for (int i = 0; i < 3; i++) {
                small.callRef("sb_fixtures.Counter", i);
            }
            assertThatThrownBy(() -> small.callRef("sb_fixtures.Counter"))
                    .isInstanceOfSatisfying(RefLimitExceededException.class, e -> {
                        assertThat(e.limit()).isEqualTo(3);
                        assertThat(e.setting()).isEqualTo("maxRefs");
                        assertThat(e.sqlState()).isEqualTo("54000");
                    });
            assertThat(small.liveRefs()).isEqualTo(3);
            assertThat(small.call("math.sqrt", 16.0).asDouble()).isEqualTo(4.0);
        }
    }

    @Test
    void evictLruPolicyEvictsTheLeastRecentlyUsedAndItsHolderGetsEvicted() {
        try (WorkerConnection small = Workers.connect(Workers.config().maxRefs(2).refLimitPolicy(RefLimitPolicy.EVICT_LRU))) {
            RefHandle first = small.callRef("sb_fixtures.Counter", 1);
            RefHandle second = small.callRef("sb_fixtures.Counter", 2);
            first.call("add");
            RefHandle third = small.callRef("sb_fixtures.Counter", 3);
            assertThat(reasonOf(() -> second.call("add"))).isEqualTo(RefNotFoundException.Reason.EVICTED);
            assertThat(first.getAttr("count").asLong()).isEqualTo(2);
            assertThat(third.getAttr("count").asLong()).isEqualTo(3);
            assertThat(small.liveRefs()).isEqualTo(2);
        }
    }

    @Test
    void anIdleRefExpiresAfterTheTtlAndEveryUseRenewsIt() throws Exception {
        try (WorkerConnection ttl = Workers.connect(Workers.config().refTtl(Duration.ofMillis(800)))) {
            RefHandle used = ttl.callRef("sb_fixtures.Counter");
            RefHandle idle = ttl.callRef("sb_fixtures.Counter");
            for (int i = 0; i < 8; i++) {
                Thread.sleep(200);
                used.call("add");
            }
            assertThat(used.getAttr("count").asLong()).isEqualTo(8);
            assertThat(reasonOf(() -> idle.call("add"))).isEqualTo(RefNotFoundException.Reason.EXPIRED);
        }
    }

    @Test
    void anAbandonedHandleIsReleasedByTheCleanerWithTheNextRequestAndReportedWithWhereItWasMade() throws Exception {
        py.close();
        py = Workers.connect(Workers.config().leakDetection(true));
        java.io.PrintStream stderr = System.err; // slf4j-simple writes io.snakebridge.leaks warnings to the System.err of the moment
        java.io.ByteArrayOutputStream logged = new java.io.ByteArrayOutputStream();
        System.setErr(new java.io.PrintStream(logged, true, java.nio.charset.StandardCharsets.UTF_8));
        try {
            abandonOneRef();
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (py.liveRefs() != 0 && System.nanoTime() < deadline) {
                System.gc();
                Thread.sleep(20);
            }
        } finally {
            System.setErr(stderr);
        }
        assertThat(py.liveRefs()).isZero();
        String report = logged.toString(java.nio.charset.StandardCharsets.UTF_8);
        assertThat(report).contains("io.snakebridge.leaks", "(Counter) was garbage-collected without close()", "ref created here",
                "RefLifecycleTest.abandonOneRef");
    }

    private void abandonOneRef() {
        py.callRef("sb_fixtures.Counter");
        assertThat(py.liveRefs()).isEqualTo(1);
    }

    @Test
    void eightThreadsOnOneConnectionEachSeeTheirOwnRefs() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<?>> results = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                final int base = t * 1000;
                results.add(pool.submit(ownValuesOn(py, base)));
            }
            for (Future<?> f : results) {
                f.get();
            }
        } finally {
            pool.shutdown();
        }
        assertThat(py.liveRefs()).isZero();
    }

    @Test
    void fourConnectionsAtOnceEachSeeTheirOwnRefs() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        List<WorkerConnection> connections = new ArrayList<>();
        try {
            List<Future<?>> results = new ArrayList<>();
            for (int c = 0; c < 4; c++) {
                WorkerConnection conn = Workers.connect();
                connections.add(conn);
                results.add(pool.submit(ownValuesOn(conn, c * 1000)));
            }
            for (Future<?> f : results) {
                f.get();
            }
            for (WorkerConnection conn : connections) {
                assertThat(conn.liveRefs()).isZero();
            }
        } finally {
            pool.shutdown();
            connections.forEach(WorkerConnection::close);
        }
    }

    private static Callable<Void> ownValuesOn(BridgeConnection conn, int base) {
        return () -> {
            for (int i = 0; i < 50; i++) {
                try (RefHandle counter = conn.callRef("sb_fixtures.Counter", base + i)) {
                    assertThat(counter.call("add", 1).asLong()).isEqualTo(base + i + 1);
                    assertThat(conn.call("sb_fixtures.read_count", counter).asLong()).isEqualTo(base + i + 1);
                }
            }
            return null;
        };
    }
}

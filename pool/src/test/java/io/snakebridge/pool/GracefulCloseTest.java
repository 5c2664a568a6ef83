package io.snakebridge.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.snakebridge.BridgeClosedException;
import io.snakebridge.BridgeConfig;
import io.snakebridge.BridgeConnection;
import io.snakebridge.BridgeException;
import io.snakebridge.CallCancelledException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@link BridgePool#close(Duration)}: borrowers get the grace period, then their calls are cancelled; no worker is left. */
@Timeout(120)
class GracefulCloseTest {
    @TempDir
    Path modules;

    /** A pool of one whose workers can run {@code slow.run(started, seconds)}: it calls {@code started}, then sleeps. */
    private BridgePool poolWithSlowModule() throws IOException {
        Files.writeString(modules.resolve("slow.py"), "import time\n\ndef run(started, seconds):\n    started()\n"
                + "    time.sleep(seconds)\n    return 'finished'\n");
        return new BridgePool(Pools.config(1).bridge(BridgeConfig.builder().python(Pools.PYTHON).pythonPath(modules).build()).build());
    }

    /** Borrows, tells the worker's pid, runs {@code slow.run} for {@code seconds}, returns its result or its failure. */
    private static CompletableFuture<Object> borrowAndRunSlowCall(BridgePool pool, CompletableFuture<Long> pid,
            CountDownLatch started, double seconds) {
        return CompletableFuture.supplyAsync(() -> {
            try (BridgeConnection py = pool.getConnection()) {
                pid.complete(Pools.workerPid(py));
                return py.call("slow.run", (Runnable) started::countDown, seconds).asString();
            } catch (BridgeException e) {
                return e;
            }
        });
    }

    private static void assertGone(long pid) throws Exception {
        ProcessHandle process = ProcessHandle.of(pid).orElse(null);
        if (process != null) { // gone already, or exiting (a bounded wait: join() would ignore the class timeout's interrupt)
            try {
                process.onExit().get(30, TimeUnit.SECONDS);
            } catch (TimeoutException e) {
                throw new AssertionError("worker " + pid + " still alive 30 s after the pool closed", e);
            }
        }
        assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).as("worker %d alive", pid).isFalse();
    }

    @Test
    void aCallRunningWhenTheCloseStartsFinishesWithinTheGraceAndNoWorkerIsLeft() throws Exception {
        BridgePool pool = poolWithSlowModule();
        CompletableFuture<Long> pid = new CompletableFuture<>();
        CountDownLatch started = new CountDownLatch(1);
        CompletableFuture<Object> outcome = borrowAndRunSlowCall(pool, pid, started, 1.0);
        assertThat(started.await(60, TimeUnit.SECONDS)).isTrue();

        pool.close(Duration.ofSeconds(60));

        assertThat(outcome.get()).isEqualTo("finished");
        assertThat(pool.isClosed()).isTrue();
        assertGone(pid.get());
    }

    @Test
    void aCallStillRunningWhenTheGraceEndsIsCancelledAndNoWorkerIsLeft() throws Exception {
        BridgePool pool = poolWithSlowModule();
        CompletableFuture<Long> pid = new CompletableFuture<>();
        CountDownLatch started = new CountDownLatch(1);
        CompletableFuture<Object> outcome = borrowAndRunSlowCall(pool, pid, started, 600.0);
        assertThat(started.await(60, TimeUnit.SECONDS)).isTrue();

        pool.close(Duration.ZERO);

        assertThat(outcome.get()).isInstanceOfSatisfying(CallCancelledException.class, e -> {
            assertThat(e.sqlState()).isEqualTo("57014");
            assertThat(e.workerKilled()).isFalse();
        });
        assertGone(pid.get());
    }

    @Test
    void aClosingPoolLendsNothingWhileItWaitsForItsBorrowers() throws Exception {
        BridgePool pool = new BridgePool(Pools.config(2).build());
        BridgeConnection held = pool.getConnection();
        CompletableFuture<Void> closing = CompletableFuture.runAsync(() -> pool.close(Duration.ofSeconds(60)));
        while (!pool.isClosed()) {
            Thread.onSpinWait(); // until the closer has begun; bounded by the class timeout
        }
        assertThatThrownBy(pool::getConnection).isInstanceOfSatisfying(BridgeClosedException.class,
                e -> assertThat(e.sqlState()).isEqualTo("08003"));
        assertThat(held.call("math.sqrt", 4.0).asDouble()).as("a borrower keeps working during the grace").isEqualTo(2.0);
        assertThat(closing).isNotDone();
        held.close();
        closing.get();
        assertThat(pool.totalConnections()).isZero();
    }

    @Test
    void aBorrowWithItsOwnTimeoutGivesUpWhenEveryWorkerIsBusy() {
        try (BridgePool pool = new BridgePool(Pools.config(1).build()); BridgeConnection held = pool.getConnection()) {
            assertThatThrownBy(() -> pool.getConnection(Duration.ofMillis(200))).isInstanceOfSatisfying(BridgeException.class,
                    e -> assertThat(e.sqlState()).isEqualTo("08001"));
            assertThat(held.call("abs", -1).asLong()).isEqualTo(1);
            assertThatThrownBy(() -> pool.getConnection(Duration.ZERO)).isInstanceOf(IllegalArgumentException.class);
        }
    }
}

package io.snakebridge.pool;

import static org.assertj.core.api.Assertions.assertThat;

import io.snakebridge.BridgeConnection;
import io.snakebridge.BridgeException;
import io.snakebridge.RefHandle;
import io.snakebridge.WorkerCrashedException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * 16 threads x 300 borrow-call-return cycles over 4 workers while a killer SIGKILLs a worker every
 * few hundred milliseconds: only calls on killed workers fail, each with WorkerCrashedException, and
 * every value and ref a thread sees is its own.
 */
class PoolLoadTest {
    private static final int THREADS = 16;
    private static final int CYCLES = 300;

    @Test
    void sixteenThreadsOverFourWorkersSurviveRepeatedSigkills() throws Exception {
        AtomicInteger completed = new AtomicInteger();
        AtomicInteger crashed = new AtomicInteger();
        AtomicInteger kills = new AtomicInteger();
        Map<String, Integer> unexpected = new ConcurrentHashMap<>();
        AtomicBoolean running = new AtomicBoolean(true);
        // The killer picks only workers that have served a borrower. On a loaded machine a start can
        // outlast the kill interval, and killing every worker before it serves starves the pool (the
        // pool retries, but the killer wins every time), which proves nothing about recovery.
        Set<Long> served = ConcurrentHashMap.newKeySet();
        long started = System.nanoTime();
        try (BridgePool pool = new BridgePool(Pools.config(4).build())) {
            Thread killer = new Thread(() -> {
                while (running.get()) {
                    try {
                        Thread.sleep(200 + ThreadLocalRandom.current().nextInt(200));
                    } catch (InterruptedException e) {
                        return;
                    }
                    // descendants: a forked worker is the child of this JVM's worker server
                    List<ProcessHandle> workers = ProcessHandle.current().descendants().filter(ProcessHandle::isAlive)
                            .filter(p -> served.contains(p.pid())).toList();
                    if (!workers.isEmpty() && running.get()) {
                        workers.get(ThreadLocalRandom.current().nextInt(workers.size())).destroyForcibly();
                        kills.incrementAndGet();
                    }
                }
            }, "killer");
            killer.start();
            ExecutorService threads = Executors.newFixedThreadPool(THREADS);
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                final int thread = t;
                done.add(threads.submit(() -> {
                    for (int i = 0; i < CYCLES; i++) {
                        long mine = thread * 1_000_000L + i;
                        try (BridgeConnection py = pool.getConnection()) {
                            served.add(Pools.workerPid(py));
                            RefHandle ns = py.callRef("types.SimpleNamespace");
                            ns.setAttr("value", mine);
                            assertThat(py.call("getattr", ns, "value").asLong()).isEqualTo(mine);
                            assertThat(ns.getAttr("value").asLong()).isEqualTo(mine);
                            assertThat(py.call("operator.add", mine, 1).asLong()).isEqualTo(mine + 1);
                            assertThat(py.liveRefs()).isEqualTo(1); // a fresh session: nobody else's refs
                            completed.incrementAndGet();
                        } catch (WorkerCrashedException e) {
                            crashed.incrementAndGet();
                        } catch (BridgeException e) {
                            unexpected.merge(e.getClass().getSimpleName() + ": " + e.getMessage(), 1, Integer::sum);
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
            running.set(false);
            killer.interrupt();
            killer.join();
            threads.shutdown();

            List<BridgeConnection> all = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                all.add(pool.getConnection());
            }
            for (BridgeConnection py : all) {
                assertThat(py.workerLiveRefs()).isZero();
            }
            all.forEach(BridgeConnection::close);
            System.out.printf("pool load: %d cycles, %d completed, %d failed with WorkerCrashedException, %d SIGKILLs, "
                    + "%d evictions, %.1f s%n", THREADS * CYCLES, completed.get(), crashed.get(), kills.get(), pool.evictions(),
                    (System.nanoTime() - started) / 1e9);
            assertThat(unexpected).isEmpty();
            assertThat(completed.get() + crashed.get()).isEqualTo(THREADS * CYCLES);
            assertThat(kills.get()).isPositive();
            assertThat(crashed.get()).isPositive().isLessThanOrEqualTo(kills.get() * 1);
        }
    }
}

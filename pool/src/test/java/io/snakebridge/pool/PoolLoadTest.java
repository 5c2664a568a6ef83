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

    /**
     * Borrowers record which worker each borrow got and when; a killer records when each worker it
     * SIGKILLed was gone. No borrow may get a worker that was already gone when the borrow began
     * (give or take the few milliseconds a forked worker's end takes to be reported).
     */
    @Test
    void underContinuousKillsNoBorrowGetsAWorkerThatWasAlreadyDead() throws Exception {
        Map<Long, Long> goneAt = new ConcurrentHashMap<>(); // pid -> nanoTime its death was confirmed
        List<long[]> borrows = java.util.Collections.synchronizedList(new ArrayList<>()); // {pid, nanoTime borrow began}
        AtomicBoolean running = new AtomicBoolean(true);
        try (BridgePool pool = new BridgePool(Pools.config(3).build())) {
            Thread killer = new Thread(() -> {
                while (running.get()) {
                    try {
                        Thread.sleep(50 + ThreadLocalRandom.current().nextInt(50));
                        List<ProcessHandle> workers = ProcessHandle.current().descendants().filter(ProcessHandle::isAlive)
                                .filter(p -> borrows.stream().anyMatch(b -> b[0] == p.pid())).toList();
                        if (!workers.isEmpty()) {
                            ProcessHandle victim = workers.get(ThreadLocalRandom.current().nextInt(workers.size()));
                            victim.destroyForcibly();
                            while (victim.isAlive()) { // polled, not onExit: that polls slowly for a forked (not child) worker
                                Thread.sleep(1);
                            }
                            goneAt.put(victim.pid(), System.nanoTime());
                        }
                    } catch (InterruptedException e) {
                        return;
                    } catch (Exception e) {
                        // a worker that ended meanwhile: the next round picks another
                    }
                }
            }, "killer");
            killer.start();
            long end = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(3);
            // Two borrowers over three workers, pausing between borrows: workers sit idle, as in an app
            // server, which is when a death goes unseen until the next borrow.
            ExecutorService threads = Executors.newFixedThreadPool(2);
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 2; t++) {
                done.add(threads.submit(() -> {
                    while (System.nanoTime() < end) {
                        Thread.sleep(ThreadLocalRandom.current().nextInt(60));
                        long began = System.nanoTime();
                        try (BridgeConnection py = pool.getConnection()) {
                            // the worker lent, read without a request (one to a dead worker would fail)
                            borrows.add(new long[] {Long.parseLong(py.toString().replaceAll(".*worker (\\d+).*", "$1")), began});
                            py.call("math.sqrt", 4.0);
                        } catch (BridgeException e) {
                            // died during this borrow: allowed (08006), not what is checked here
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
        }
        long margin = java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(10);
        List<String> lentDead = new ArrayList<>();
        synchronized (borrows) {
            for (long[] borrow : borrows) {
                Long gone = goneAt.get(borrow[0]);
                if (gone != null && gone + margin < borrow[1]) {
                    lentDead.add("worker " + borrow[0] + " lent " + (borrow[1] - gone) / 1_000_000 + " ms after it was gone");
                }
            }
        }
        System.out.printf("continuous kills: %d borrows, %d workers killed, %d lent after they were gone%n",
                borrows.size(), goneAt.size(), lentDead.size());
        assertThat(goneAt).as("the killer killed workers").isNotEmpty();
        assertThat(lentDead).isEmpty();
    }
}

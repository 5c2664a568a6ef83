package io.snakebridge.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.snakebridge.BridgeConfig;
import io.snakebridge.BridgeConnection;
import io.snakebridge.BridgeException;
import io.snakebridge.ModuleNotAllowedException;
import io.snakebridge.RequestListener;
import io.snakebridge.internal.WorkerStarter;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A pool over two remote worker servers (README "Remote workers", PROTOCOL.md REMOTE-3..5), on
 * 127.0.0.1 with a token (plain TCP: the driver's tests cover TLS). The first server admits two
 * workers ({@code --max-workers 2}), so the pool's other two fail over to the second; when the first
 * is killed under load, only calls on its workers fail, each with an 08 SQLState, and the pool refills
 * from the second; when it is back on the same port, the pool's new workers go to it again.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class RemotePoolTest {
    private static final Pattern READY = Pattern.compile("\"pid\": (\\d+).*\"listen\": \"([^\"]+)\"");

    private record Server(Process process, long pid, String host) {
        static Server start(Path token, String... options) throws Exception {
            return startAt("127.0.0.1:0", token, options);
        }

        /** At {@code listen}: a port of a server killed before, to bring it back where the pool's hosts name it. */
        static Server startAt(String listen, Path token, String... options) throws Exception {
            List<String> args = new ArrayList<>(List.of("--token-file", token.toString()));
            args.addAll(List.of(options));
            Process process = WorkerStarter.serverProcess(BridgeConfig.builder().python(Pools.PYTHON).build(), listen, args)
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            BufferedReader events = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            Matcher ready = READY.matcher(String.valueOf(events.readLine()));
            assertThat(ready.find()).as("the server is ready").isTrue();
            Thread drain = new Thread(() -> events.lines().forEach(line -> { }), "server-events");
            drain.setDaemon(true);
            drain.start();
            return new Server(process, Long.parseLong(ready.group(1)), ready.group(2));
        }

        void stop() throws InterruptedException {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void aPoolOverTwoServersKeepsServingWhenOneIsKilledUnderLoadAndOnlyItsCallsFailWith08(@TempDir Path dir) throws Exception {
        Path token = Files.writeString(dir.resolve("token"), "pool-test-token-0123456789abcdef\n");
        Server first = Server.start(token, "--max-workers", "2");
        Server second = Server.start(token);
        BridgeConfig bridge = BridgeConfig.builder().hosts(first.host(), second.host()).ssl(false).tokenFile(token).build();
        Map<Long, AtomicInteger> servedBy = new ConcurrentHashMap<>();
        Set<String> failures = ConcurrentHashMap.newKeySet();
        AtomicInteger failed = new AtomicInteger();
        try (BridgePool pool = new BridgePool(BridgePoolConfig.builder().poolSize(4).bridge(bridge).build())) {
            List<BridgeConnection> all = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                all.add(pool.getConnection());
            }
            List<Long> servers = all.stream().map(py -> py.call("os.getppid").asLong()).toList();
            assertThat(servers).as("two workers on the first server, its limit; two failed over to the second")
                    .containsExactlyInAnyOrder(first.pid(), first.pid(), second.pid(), second.pid());
            all.forEach(BridgeConnection::close);

            ExecutorService threads = Executors.newFixedThreadPool(4);
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                done.add(threads.submit(() -> {
                    for (int cycle = 0; cycle < 150; cycle++) {
                        String where = "no connection";
                        try (BridgeConnection py = pool.getConnection()) {
                            where = py.toString(); // names the worker's server: "worker 12 on 127.0.0.1:40000"
                            servedBy.computeIfAbsent(py.call("os.getppid").asLong(), s -> new AtomicInteger()).incrementAndGet();
                        } catch (BridgeException e) {
                            failed.incrementAndGet();
                            failures.add(e.getClass().getSimpleName() + " " + e.sqlState()
                                    + (where.contains(" on " + first.host() + ",") ? " on the first server" : " on " + where));
                        }
                    }
                    return null;
                }));
            }
            while (servedBy.getOrDefault(first.pid(), new AtomicInteger()).get() < 20) {
                Thread.sleep(10); // bounded by the test's timeout; the first server serves from the start
            }
            first.stop();
            for (Future<?> thread : done) {
                thread.get();
            }
            threads.shutdown();
            try (BridgeConnection py = pool.getConnection()) {
                assertThat(py.call("os.getppid").asLong()).as("refilled from the second server").isEqualTo(second.pid());
            }
        } finally {
            second.stop();
            first.stop();
        }
        assertThat(failures).as("only calls on the killed server's workers fail, with 08 SQLStates (%d failed)", failed.get())
                .allMatch(f -> f.matches(".* 08[0-9A-Z]{3} on the first server"));
        assertThat(servedBy.get(second.pid()).get()).isGreaterThan(0);
    }
    @Test
    void aWorkerItsServerClosesForIdlenessIsEvictedAndThePoolLendsANewOne(@TempDir Path dir) throws Exception {
        Path token = Files.writeString(dir.resolve("token"), "pool-test-token-0123456789abcdef\n");
        Server idle = Server.start(token, "--idle-timeout", "3");
        CompletableFuture<String> ended = new CompletableFuture<>();
        BridgeConfig bridge = BridgeConfig.builder().hosts(idle.host()).ssl(false).tokenFile(token).requestListener(new RequestListener() {
            @Override
            public void requestEnded(BridgeConnection connection, String op, long nanos, BridgeException failure) {
            }

            @Override
            public void workerEnded(BridgeConnection connection, String how) {
                ended.complete(how); // after the pool's own eviction of it
            }
        }).build();
        try (BridgePool pool = new BridgePool(BridgePoolConfig.builder().poolSize(1).bridge(bridge).build())) {
            long first;
            try (BridgeConnection py = pool.getConnection()) {
                first = py.call("os.getpid").asLong();
            }
            assertThat(ended.get(60, TimeUnit.SECONDS)).contains("--idle-timeout");
            try (BridgeConnection py = pool.getConnection()) {
                assertThat(py.call("os.getpid").asLong()).as("a new worker of the same server").isNotEqualTo(first);
                assertThat(py.call("os.getppid").asLong()).isEqualTo(idle.pid());
            }
        } finally {
            idle.stop();
        }
    }

    @Test
    void theServersModulePolicyOutlivesThePoolsSessionResetOnReturn(@TempDir Path dir) throws Exception {
        Path token = Files.writeString(dir.resolve("token"), "pool-test-token-0123456789abcdef\n");
        Server confined = Server.start(token, "--allow-modules", "math,os.path");
        BridgeConfig bridge = BridgeConfig.builder().hosts(confined.host()).ssl(false).tokenFile(token).allowModules("math", "os").build();
        try (BridgePool pool = new BridgePool(BridgePoolConfig.builder().poolSize(1).bridge(bridge).build())) {
            for (int borrow = 0; borrow < 2; borrow++) {
                try (BridgeConnection py = pool.getConnection()) {
                    assertThat(py.call("math.sqrt", 4.0).asDouble()).isEqualTo(2.0);
                    assertThatThrownBy(() -> py.call("os.getcwd")).as("borrow %d", borrow)
                            .isInstanceOfSatisfying(ModuleNotAllowedException.class, e -> assertThat(e.module()).isEqualTo("os"));
                }
            }
        } finally {
            confined.stop();
        }
    }

    /**
     * A killed server that comes back on the same port is used again. The driver tries its hosts in
     * order (REMOTE-5), so the first host, killed here, is where every new worker goes first once it
     * answers again; new workers come as the pool replaces old ones (maxLifetime in production; here
     * the second server's workers are killed, the quickest churn a test can cause). This holds without
     * {@code loadBalanceHosts}, which spreads workers rather than ordering them.
     */
    @Test
    void aKilledServerBackOnItsPortIsUsedAgainForTheWorkersThePoolReplaces(@TempDir Path dir) throws Exception {
        Path token = Files.writeString(dir.resolve("token"), "pool-test-token-0123456789abcdef\n");
        Server first = Server.start(token, "--max-workers", "2");
        Server second = Server.start(token);
        Server back = null;
        BridgeConfig bridge = BridgeConfig.builder().hosts(first.host(), second.host()).ssl(false).tokenFile(token).build();
        Set<String> failures = ConcurrentHashMap.newKeySet();
        try (BridgePool pool = new BridgePool(BridgePoolConfig.builder().poolSize(4).bridge(bridge).build())) {
            assertThat(serversOfAllFour(pool, failures)).containsExactlyInAnyOrder(first.pid(), first.pid(), second.pid(), second.pid());
            first.stop();
            assertThat(serversOfAllFour(pool, failures)).as("refilled from the second server").containsOnly(second.pid());

            back = Server.startAt(first.host(), token, "--max-workers", "2");
            for (long worker : workersOfAllFour(pool, failures)) {
                ProcessHandle.of(worker).ifPresent(ProcessHandle::destroyForcibly); // churn: the pool replaces each
            }
            assertThat(serversOfAllFour(pool, failures)).as("the first host is tried first again: its two workers, then the second's")
                    .containsExactlyInAnyOrder(back.pid(), back.pid(), second.pid(), second.pid());

            Map<Long, AtomicInteger> servedBy = new ConcurrentHashMap<>();
            ExecutorService threads = Executors.newFixedThreadPool(4);
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                done.add(threads.submit(() -> {
                    for (int cycle = 0; cycle < 50; cycle++) {
                        try (BridgeConnection py = pool.getConnection()) {
                            servedBy.computeIfAbsent(py.call("os.getppid").asLong(), s -> new AtomicInteger()).incrementAndGet();
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> thread : done) {
                thread.get(); // a failed call fails the test: both servers are up
            }
            threads.shutdown();
            assertThat(servedBy.keySet()).as("under load, both servers serve again").containsExactlyInAnyOrder(back.pid(), second.pid());
        } finally {
            second.stop();
            first.stop();
            if (back != null) {
                back.stop();
            }
        }
        assertThat(failures).as("the only calls that failed were on workers that had died (the killed server's, or churned ones): 08 SQLStates")
                .allMatch(f -> f.matches(".* 08[0-9A-Z]{3}"));
    }

    /** The servers (parent pids) of the pool's four workers, borrowed at once. */
    private static List<Long> serversOfAllFour(BridgePool pool, Set<String> failures) {
        return allFour(pool, failures, "os.getppid");
    }

    private static List<Long> workersOfAllFour(BridgePool pool, Set<String> failures) {
        return allFour(pool, failures, "os.getpid");
    }

    /**
     * {@code function} on each of four connections borrowed at once (the whole pool). A worker that
     * died and is not evicted yet fails its call; its connection is then evicted at close, and the
     * borrow is tried again (bounded: the test's timeout), so what comes back is the pool once refilled.
     */
    private static List<Long> allFour(BridgePool pool, Set<String> failures, String function) {
        while (true) {
            List<BridgeConnection> borrowed = new ArrayList<>();
            try {
                List<Long> answers = new ArrayList<>();
                for (int i = 0; i < 4; i++) {
                    borrowed.add(pool.getConnection());
                }
                for (BridgeConnection py : borrowed) {
                    answers.add(py.call(function).asLong());
                }
                return answers;
            } catch (BridgeException e) {
                failures.add(e.getClass().getSimpleName() + " " + e.sqlState());
            } finally {
                borrowed.forEach(BridgeConnection::close);
            }
        }
    }
}

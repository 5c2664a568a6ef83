package io.snakebridge.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.MeterRegistry;
import io.snakebridge.BridgeConfig;
import io.snakebridge.BridgeConnection;
import io.snakebridge.BridgeException;
import io.snakebridge.CallCancelledException;
import io.snakebridge.CallTimeoutException;
import io.snakebridge.RefHandle;
import io.snakebridge.RefLimitExceededException;
import io.snakebridge.pool.BridgePool;
import io.snakebridge.pool.BridgePoolConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.actuate.autoconfigure.health.HealthContributorAutoConfiguration;
import org.springframework.boot.actuate.autoconfigure.health.HealthEndpointAutoConfiguration;
import org.springframework.boot.actuate.autoconfigure.metrics.CompositeMeterRegistryAutoConfiguration;
import org.springframework.boot.actuate.autoconfigure.metrics.MetricsAutoConfiguration;
import org.springframework.boot.actuate.autoconfigure.metrics.export.simple.SimpleMetricsExportAutoConfiguration;
import org.springframework.boot.actuate.health.HealthComponent;
import org.springframework.boot.actuate.health.HealthEndpoint;
import org.springframework.boot.actuate.health.Status;
import org.springframework.boot.actuate.health.SystemHealth;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The starter in an application context, with real workers. */
@Timeout(180)
class SnakeBridgeAutoConfigurationTest {
    static final String PYTHON = System.getProperty("snakebridge.python", "python3");

    @TempDir
    Path dir;

    /** The starter with Actuator's health endpoint and a simple meter registry, as an application with Actuator has. */
    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(SnakeBridgeAutoConfiguration.class, SnakeBridgeHealthAutoConfiguration.class,
                    HealthContributorAutoConfiguration.class, HealthEndpointAutoConfiguration.class, MetricsAutoConfiguration.class,
                    SimpleMetricsExportAutoConfiguration.class, CompositeMeterRegistryAutoConfiguration.class))
            .withPropertyValues("snakebridge.python=" + PYTHON, "snakebridge.pool-size=1");

    private static HealthComponent snakebridgeHealth(ConfigurableApplicationContext context) {
        HealthComponent all = context.getBean(HealthEndpoint.class).health();
        return ((SystemHealth) all).getComponents().get("snakebridge");
    }

    private static Object detail(HealthComponent health, String name) {
        return ((org.springframework.boot.actuate.health.Health) health).getDetails().get(name);
    }

    @Test
    void propertiesReachThePoolAndItsWorkers() {
        runner.withPropertyValues("snakebridge.pool-size=2", "snakebridge.max-refs=3", "snakebridge.call-timeout=1s").run(context -> {
            assertThat(context).hasNotFailed();
            BridgePool pool = context.getBean(BridgePool.class);
            try (BridgeConnection first = pool.getConnection(); BridgeConnection second = pool.getConnection()) {
                assertThat(first.call("os.getpid").asLong()).isNotEqualTo(second.call("os.getpid").asLong());
                assertThatThrownBy(() -> pool.getConnection(Duration.ofMillis(200))).as("a third worker, past pool-size=2")
                        .isInstanceOfSatisfying(BridgeException.class, e -> assertThat(e.sqlState()).isEqualTo("08001"));

                List<RefHandle> refs = new ArrayList<>();
                for (int i = 0; i < 3; i++) {
                    refs.add(first.callRef("object"));
                }
                assertThatThrownBy(() -> first.callRef("object")).isInstanceOfSatisfying(RefLimitExceededException.class,
                        e -> assertThat(e.limit()).isEqualTo(3));

                assertThatThrownBy(() -> second.call("time.sleep", 60)).isInstanceOf(CallTimeoutException.class);
                assertThat(second.call("abs", -2).asLong()).as("the worker survives the timeout").isEqualTo(2);
            }
        });
    }

    @Test
    void healthIsUpWhenAWorkerAnswersItsPing() {
        runner.run(context -> {
            HealthComponent health = snakebridgeHealth(context);
            assertThat(health.getStatus()).isEqualTo(Status.UP);
            assertThat(detail(health, "workers")).isEqualTo(1);
            assertThat(detail(health, "pingMicros")).isNotNull();
        });
    }

    @Test
    void healthStaysUpWhenEveryWorkerIsBusy() {
        runner.withPropertyValues("snakebridge.health-timeout=200ms").run(context -> {
            try (BridgeConnection held = context.getBean(BridgePool.class).getConnection()) {
                HealthComponent health = snakebridgeHealth(context);
                assertThat(health.getStatus()).isEqualTo(Status.UP);
                assertThat(detail(health, "ping")).isEqualTo("skipped: every worker is busy");
            }
        });
    }

    @Test
    void aMissingInterpreterStopsTheStartNamingIt() {
        String missing = dir.resolve("no-such-python").toString();
        runner.withPropertyValues("snakebridge.python=" + missing).run(context -> assertThat(context).hasFailed()
                .getFailure().hasStackTraceContaining(missing)
                .hasStackTraceContaining("WorkerStartException"));
    }

    @Test
    void healthTurnsDownWhenTheWorkersDieAndCannotBeReplaced() throws Exception {
        Path python = dir.resolve("python");
        Path real = Path.of(new ProcessBuilder("sh", "-c", "command -v " + PYTHON).start().inputReader().readLine());
        Files.createSymbolicLink(python, real.toRealPath());
        runner.withPropertyValues("snakebridge.python=" + python, "snakebridge.worker-start=spawn", "snakebridge.health-timeout=2s")
                .run(context -> {
                    assertThat(snakebridgeHealth(context).getStatus()).isEqualTo(Status.UP);
                    long pid;
                    try (BridgeConnection py = context.getBean(BridgePool.class).getConnection()) {
                        pid = py.call("os.getpid").asLong();
                    }
                    Files.delete(python); // the interpreter is gone: no replacement can start
                    ProcessHandle worker = ProcessHandle.of(pid).orElseThrow();
                    worker.destroyForcibly();
                    worker.onExit().get();

                    HealthComponent health = snakebridgeHealth(context);
                    assertThat(health.getStatus()).isEqualTo(Status.DOWN);
                    assertThat(String.valueOf(detail(health, "error"))).contains(python.toString());
                });
    }

    @Test
    void thePoolsMetersAreInTheApplicationsRegistry() {
        runner.run(context -> {
            try (BridgeConnection py = context.getBean(BridgePool.class).getConnection()) {
                py.call("math.sqrt", 2.0);
            }
            MeterRegistry registry = context.getBean(MeterRegistry.class);
            assertThat(registry.get("snakebridge.calls").tag("pool", "snakebridge").timer().count()).isEqualTo(1);
            assertThat(registry.get("hikaricp.connections").tag("pool", "snakebridge").gauge()).isNotNull();
        });
    }

    @Configuration(proxyBeanMethods = false)
    static class OwnPool {
        @Bean
        BridgePool myPool() {
            return new BridgePool(BridgePoolConfig.builder().poolSize(1).poolName("mine")
                    .bridge(BridgeConfig.builder().python(PYTHON).build()).build());
        }
    }

    @Test
    void aPoolTheApplicationDefinesWinsOverTheAutoConfiguredOne() {
        runner.withUserConfiguration(OwnPool.class).run(context -> {
            assertThat(context).hasSingleBean(BridgePool.class).hasBean("myPool").doesNotHaveBean("snakebridgePool")
                    .doesNotHaveBean(GracefulPoolShutdown.class);
            assertThat(snakebridgeHealth(context).getStatus()).as("health serves the application's pool").isEqualTo(Status.UP);
        });
    }

    @Test
    void aBadPropertyFailsTheStartNamingIt() {
        runner.withPropertyValues("snakebridge.max-refs=0").run(context -> assertThat(context).hasFailed()
                .getFailure().hasStackTraceContaining("bad value '0' for property snakebridge.max-refs: ")
                .hasRootCauseMessage("maxRefs must be >= 1, got 0"));
    }

    /** {@code slow.run(started, seconds)} calls {@code started}, then sleeps: a call known to be running. */
    private String slowModule() throws IOException {
        Files.writeString(dir.resolve("slow.py"), "import time\n\ndef run(started, seconds):\n    started()\n"
                + "    time.sleep(seconds)\n    return 'finished'\n");
        return "snakebridge.python-path=" + dir;
    }

    /** Starts a context, borrows in another thread and runs {@code slow.run}, closes the context while it runs. */
    private void closeWhileACallRuns(String grace, double seconds, java.util.function.BiConsumer<Object, Long> then) throws Exception {
        runner.withPropertyValues(slowModule(), "snakebridge.shutdown-grace-period=" + grace).run(context -> {
            BridgePool pool = context.getBean(BridgePool.class);
            CompletableFuture<Long> pid = new CompletableFuture<>();
            CountDownLatch started = new CountDownLatch(1);
            CompletableFuture<Object> outcome = CompletableFuture.supplyAsync(() -> {
                try (BridgeConnection py = pool.getConnection()) {
                    pid.complete(py.call("os.getpid").asLong());
                    return py.call("slow.run", (Runnable) started::countDown, seconds).asString();
                } catch (BridgeException e) {
                    return e;
                }
            });
            assertThat(started.await(60, TimeUnit.SECONDS)).isTrue();
            context.close();
            assertThat(pool.isClosed()).isTrue();
            then.accept(outcome.get(), pid.get());
        });
    }

    /** An application bean whose own shutdown code calls Python. */
    static final class CallsPythonOnShutdown implements org.springframework.beans.factory.DisposableBean {
        static final CompletableFuture<Object> RESULT = new CompletableFuture<>();
        private final BridgePool pool;

        CallsPythonOnShutdown(BridgePool pool) {
            this.pool = pool;
        }

        @Override
        public void destroy() {
            try (BridgeConnection py = pool.getConnection()) {
                RESULT.complete(py.call("math.factorial", 5).asLong());
            } catch (BridgeException e) {
                RESULT.complete(e);
            }
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class ShutdownHook {
        @Bean
        CallsPythonOnShutdown callsPythonOnShutdown(BridgePool pool) {
            return new CallsPythonOnShutdown(pool);
        }
    }

    @Test
    void beansThatUseThePoolAreDestroyedBeforeItSoTheirShutdownCodeCanStillCallPython() throws Exception {
        runner.withUserConfiguration(ShutdownHook.class).run(context -> assertThat(context).hasNotFailed());
        assertThat(CallsPythonOnShutdown.RESULT.get()).isEqualTo(120L);
    }

    private static void assertNoWorker(long pid) {
        ProcessHandle.of(pid).ifPresent(p -> p.onExit().join()); // already gone, or exiting: bounded by the class timeout
        assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).as("worker %d alive", pid).isFalse();
    }

    @Test
    void onContextCloseARunningCallFinishesWithinTheGraceAndNoWorkerRemains() throws Exception {
        closeWhileACallRuns("60s", 1.0, (outcome, pid) -> {
            assertThat(outcome).isEqualTo("finished");
            assertNoWorker(pid);
        });
    }

    @Test
    void onContextCloseACallStillRunningAfterTheGraceIsCancelledAndNoWorkerRemains() throws Exception {
        closeWhileACallRuns("100ms", 600.0, (outcome, pid) -> {
            assertThat(outcome).isInstanceOf(CallCancelledException.class);
            assertNoWorker(pid);
        });
    }
}

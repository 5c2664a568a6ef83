package io.snakebridge.conformance.worker;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.snakebridge.conformance.ProtocolClient;
import io.snakebridge.conformance.Requirement;
import io.snakebridge.conformance.WorkerUnderTest;
import io.snakebridge.shim.Signal;
import io.snakebridge.shim.WorkerProcess;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

class FramingConformanceTest extends WorkerConformance {

    @Test
    @Tag("required")
    @Requirement("FRAME-1")
    void aWorkerStartedAsAChildProcessTakesRequestsOnStdinAndAnswersOnStdout() {
        assumeLocalWorker("FRAME-1 is about a worker the client starts as a child process; a remote server's worker "
                + "speaks over the TLS connection its server forked it on (SRV-2, REMOTE-4)");
        assertThat(worker.hello().path("pid").asLong()).as("the worker that answers is the child the suite started").isEqualTo(worker.pid());
        assertThat(ok(worker.request("ping", Map.of())).asText()).isEqualTo("pong");
    }

    @Test
    @Tag("required")
    @Requirement("FRAME-2")
    void framesAreALengthPrefixAndUtf8Json() {
        assertThat(ok(worker.request("ping", Map.of())).asText()).isEqualTo("pong");
        assertThat(ok(call(s1, "str.upper", "héllo ✓")).asText()).isEqualTo("HÉLLO ✓");
    }

    @Test
    @Tag("required")
    @Requirement("FRAME-3")
    void aFrameOverTheMaximumGetsFrameTooLargeThenANonZeroExit() {
        try (ProtocolClient own = ProtocolClient.connect()) {
            long max = own.hello().path("limits").path("max_frame_bytes").asLong();
            own.sendRaw(ByteBuffer.allocate(4).putInt((int) (max + 1)).array());
            JsonNode response = own.readFrame();
            assertThat(response).isNotNull();
            assertThat(response.get("id").isNull()).isTrue();
            error(response, "frame_too_large");
            assertThat(own.exitCode(Duration.ofSeconds(10))).isNotZero();
        }
    }

    @Test
    @Tag("required")
    @Requirement("FRAME-4")
    void aStreamEndingInsideAFrameIsAProtocolErrorAndANonZeroExit() {
        try (ProtocolClient own = ProtocolClient.connect()) {
            own.sendRaw(ByteBuffer.allocate(6).putInt(100).put((byte) '{').put((byte) '}').array());
            own.closeInput();
            JsonNode response = own.readFrame();
            if (response != null) {
                error(response, "protocol");
            }
            assertThat(own.exitCode(Duration.ofSeconds(10))).isNotZero();
        }
    }

    @Test
    @Tag("required")
    @Requirement("FRAME-5")
    void endOfInputBetweenFramesIsACleanExit() {
        try (ProtocolClient own = ProtocolClient.connect()) {
            ok(own.request("ping", Map.of()));
            own.closeInput();
            assertThat(own.exitCode(Duration.ofSeconds(10))).isZero();
        }
    }

    @Test
    @Tag("required")
    @Requirement("FRAME-6")
    void userOutputToStdoutNeverReachesTheProtocolStream() {
        ok(call(s1, "print", "text printed by user code"));
        ok(call(s1, "os.write", 1, Map.of("__type__", "bytes", "__schema__", 1, "data", "cmF3IGJ5dGVzIG9uIGZkIDEK")));
        ok(worker.request("call", s1, fields("function", "sys.stdout.write", "args", List.of("via sys.stdout\n"))));
        assertThat(ok(worker.request("ping", Map.of())).asText()).isEqualTo("pong");
    }

    @Test
    @Tag("optional")
    @Requirement("FRAME-7")
    void aWorkerDiesWithItsParentEvenWhenItsInputStaysOpen() throws Exception {
        assumeLocalWorker("the suite starts a local shell as the worker's parent and kills it; a remote worker's parent "
                + "is its server, which dies with its workers by SRV-3, a server rule this run does not check");
        String cmd = WorkerUnderTest.command().stream().map(a -> "'" + a.replace("'", "'\\''") + "'").collect(Collectors.joining(" "));
        // The shell is the worker's parent; the worker's input is our pipe, which stays open after the shell dies.
        WorkerProcess shell = WorkerProcess.start(List.of("sh", "-c",
                // sh gives a background job /dev/null as input unless redirected explicitly: hand it ours (fd 3)
                "unset SNAKEBRIDGE_PARENT_PID; exec 3<&0; " + cmd + " <&3 & echo worker-pid $! >&2; wait"), WorkerUnderTest.environment());
        try {
            long pid = -1;
            for (int i = 0; i < 100 && pid < 0; i++) {
                Thread.sleep(50);
                pid = shell.recentStderr().stream().filter(l -> l.startsWith("worker-pid ")).mapToLong(l -> Long.parseLong(l.substring(11).trim()))
                        .findFirst().orElse(-1);
            }
            assertThat(pid).as("the shell reported the worker's pid").isPositive();
            // A worker that answers has started and arranged its parent-death signal, however slow a busy machine is.
            ok(ProtocolClient.over(shell).request("handshake", fields("protocol_version", 1, "min_supported_version", 1)));
            assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isTrue();
            shell.signal(Signal.KILL); // only the shell: our end of the worker's input stays open
            long deadline = System.nanoTime() + Duration.ofSeconds(2).toNanos();
            while (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false) && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            boolean alive = ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            assertThat(alive).as("worker %d outlived its parent by 2 s", pid).isFalse();
        } finally {
            shell.kill();
        }
    }
}

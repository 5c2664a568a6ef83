package io.snakebridge.conformance;

import io.snakebridge.BridgeConnection;
import io.snakebridge.SnakeBridge;
import io.snakebridge.conformance.contract.BridgeConnectionContract;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/** The driver contract again for a driver configured for a remote worker server (hosts, sslRootCert, tokenFile) over TLS on 127.0.0.1. */
class OurRemoteDriverContractTest extends BridgeConnectionContract {
    @TempDir
    static Path dir;
    static LoopbackTlsServer server;

    @BeforeAll
    static void startServer() throws Exception {
        server = LoopbackTlsServer.start(dir);
    }

    @AfterAll
    static void stopServer() throws Exception {
        server.close();
    }

    @Override
    protected BridgeConnection connect() {
        return SnakeBridge.connect(server.driverConfig().python(System.getProperty("snakebridge.python", "python3")).build());
    }
}

package io.snakebridge.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import org.junit.jupiter.api.Test;

/** A forked worker is signalled by the pid its server sent: only a number that can be another process's is taken. */
class WorkerServerPidTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void aPidThatWouldSignalAGroupEveryProcessOrThisJvmIsRefused() {
        for (String bad : new String[] {"0", "-1", "1", "\"123\"", "null", "true", "1.5", "19000000000", "{}",
                String.valueOf(ProcessHandle.current().pid())}) {
            assertThatThrownBy(() -> WorkerServer.pidIn(JSON.readTree(bad))).as(bad).isInstanceOf(IOException.class);
        }
    }

    @Test
    void anOrdinaryPidIsTaken() throws Exception {
        assertThat(WorkerServer.pidIn(JSON.readTree("4242"))).isEqualTo(4242);
    }
}

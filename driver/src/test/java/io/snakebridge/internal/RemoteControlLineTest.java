package io.snakebridge.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** A remote server's control connection is read a bounded line at a time. */
class RemoteControlLineTest {

    @Test
    void linesAreReadUpToTheirNewlineAndTheEndIsNull() throws IOException {
        InputStream in = new ByteArrayInputStream("{\"pid\": 7}\n{\"pid\": 7, \"exit_code\": 0}".getBytes(StandardCharsets.UTF_8));
        assertThat(RemoteTransport.boundedLine(in)).isEqualTo("{\"pid\": 7}");
        assertThat(RemoteTransport.boundedLine(in)).isEqualTo("{\"pid\": 7, \"exit_code\": 0}");
        assertThat(RemoteTransport.boundedLine(in)).isNull();
    }

    @Test
    void theCapIsTheLongestEndEventAServerSendsAsProtocolMdStatesIt() throws IOException {
        String protocol = String.join(" ", Files.readString(Path.of("..", "PROTOCOL.md")).split("\\s+"));
        assertThat(protocol).contains("That line is at most " + RemoteTransport.CONTROL_LINE_MAX + " bytes");
    }

    @Test
    void anEndlessLineFromAHostileServerFailsOnceItPassesTheCapWithoutBeingHeld() {
        InputStream endless = new InputStream() { // never a newline, never an end
            @Override
            public int read() {
                return 'x';
            }
        };
        assertThatThrownBy(() -> RemoteTransport.boundedLine(endless)).isInstanceOf(IOException.class)
                .hasMessageContaining("longer than " + RemoteTransport.CONTROL_LINE_MAX + " bytes");
    }
}

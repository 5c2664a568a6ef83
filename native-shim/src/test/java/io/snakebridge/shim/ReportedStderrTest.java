package io.snakebridge.shim;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A remote server's report of a worker's stderr (PROTOCOL.md REMOTE-11) is held to a local worker's rules: the server is not trusted. */
class ReportedStderrTest {

    @Test
    void controlCharactersAreEscapedVisiblyAndANewlineInsideALineMakesTwoLines() {
        assertThat(ForkedProcess.reportedStderr(List.of("red \u001b[31m text\u202e", "one\ntwo\r")))
                .containsExactly("red \\x1b[31m text\\u202e", "one", "two\\r");
    }

    @Test
    void onlyTheLastTailLinesAreKept() {
        List<String> many = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            many.add("line " + i);
        }
        List<String> kept = ForkedProcess.reportedStderr(many);
        assertThat(kept).hasSize(StderrPump.TAIL_LINES).endsWith("line 99").startsWith("line " + (100 - StderrPump.TAIL_LINES));
    }

    @Test
    void aLineTheServerCappedIsKeptAsItIsButAnEndlessOneIsCappedHere() {
        String capped = "x".repeat(2048) + " ... [95904 chars cut] ... " + "y".repeat(2048);
        assertThat(ForkedProcess.reportedStderr(List.of(capped))).containsExactly(capped);
        String endless = ForkedProcess.reportedStderr(List.of("z".repeat(1_000_000))).get(0);
        assertThat(endless).hasSizeLessThan(StderrPump.MAX_LINE_CHARS + 100).contains(" chars cut] ... ");
    }
}

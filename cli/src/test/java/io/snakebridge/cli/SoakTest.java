package io.snakebridge.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.snakebridge.BridgeConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/** The soak at reduced size; the full run is {@code ./snakebridge soak} (README). */
class SoakTest {
    private static final int CYCLES = 150;
    private static final int CALLS = 30_000;

    @Test
    void connectCallCloseCyclesAndManyCallsLeaveHeapThreadsFdsProcessesAndWorkerRssFlat() {
        BridgeConfig config = BridgeConfig.builder().python(System.getProperty("snakebridge.python", "python3")).build();
        Soak.Report report = Soak.run(config, CYCLES, CALLS, line -> { });
        report.figures().forEach(System.out::println);
        assertThat(report.figures()).hasSize(10).allSatisfy(f -> assertThat(f.flat()).as(f.toString()).isTrue());
    }

    @Test
    void readmeStatesTheReducedSoaksSizeAndSlacks() throws Exception {
        String readme = Files.readString(Path.of("../README.md")).replaceAll("\\s+", " ");
        assertThat(readme).contains(String.format(Locale.ROOT, "(`SoakTest`: %d cycles, %,d calls), where the slacks (%d MiB of heap, %d blocks)",
                CYCLES, CALLS, Soak.HEAP_SLACK_BYTES >> 20, Soak.BLOCK_SLACK));
        // what the README says the slacks can see, from the same figures
        assertThat(readme).contains(String.format(Locale.ROOT, "a leak of %d bytes of Java heap a call or of one Python object in every %d calls",
                Soak.HEAP_SLACK_BYTES / CALLS, CALLS / Soak.BLOCK_SLACK));
    }

    @Test
    void aFigureThatGrowsPastItsSlackIsNotFlat() {
        assertThat(new Soak.Figure("x", 10, 12, 2, "").flat()).isTrue();
        assertThat(new Soak.Figure("x", 10, 13, 2, "").flat()).isFalse();
    }
}

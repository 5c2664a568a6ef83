package io.snakebridge.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.snakebridge.BridgeConfig;
import org.junit.jupiter.api.Test;

/** The soak at reduced size; the full run is {@code ./snakebridge soak} (README). */
class SoakTest {

    @Test
    void connectCallCloseCyclesAndManyCallsLeaveHeapThreadsFdsProcessesAndWorkerRssFlat() {
        BridgeConfig config = BridgeConfig.builder().python(System.getProperty("snakebridge.python", "python3")).build();
        Soak.Report report = Soak.run(config, 150, 30_000, line -> { });
        report.figures().forEach(System.out::println);
        assertThat(report.figures()).hasSize(9).allSatisfy(f -> assertThat(f.flat()).as(f.toString()).isTrue());
    }

    @Test
    void aFigureThatGrowsPastItsSlackIsNotFlat() {
        assertThat(new Soak.Figure("x", 10, 12, 2, "").flat()).isTrue();
        assertThat(new Soak.Figure("x", 10, 13, 2, "").flat()).isFalse();
    }
}

package io.snakebridge.conformance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class RulesTest {

    @Test
    void aCapabilityRuleIsRequiredOfAWorkerThatDeclaresTheCapability() {
        assertThat(Rules.parse("- **REF-6** *(required with capability `ref_ttl`)* TTL.\n- **REF-7** *(optional)* O(1).\n"))
                .containsExactly(new Rules.Rule("REF-6", Rules.Tier.CAPABILITY, Optional.of("ref_ttl")),
                        new Rules.Rule("REF-7", Rules.Tier.OPTIONAL, Optional.empty()));
        assertThat(Rules.byId("REF-6").orElseThrow().tier()).isEqualTo(Rules.Tier.CAPABILITY);
        assertThat(Rules.byId("OP-CALL-1").orElseThrow().family()).isEqualTo("OP-CALL");
    }

    @Test
    void aRuleWithAnUnknownTierMarkerIsAnErrorNotARuleLeftOut() {
        assertThatThrownBy(() -> Rules.parse("- **CANCEL-2** *(optional, capability `cancel`)* A cancel names its request.\n"))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("CANCEL-2").hasMessageContaining("optional, capability");
        assertThat(Rules.parse("- **SRV-1** *(optional, server)* A server.\n")).as("the server's rules: not a worker run's").isEmpty();
    }

    @Test
    void theProtocolVersionIsReadFromTheTitle() {
        assertThat(Rules.protocolVersion()).isEqualTo(1);
        assertThatThrownBy(() -> Rules.protocolVersion("# Something else\n")).isInstanceOf(IllegalStateException.class);
    }
}

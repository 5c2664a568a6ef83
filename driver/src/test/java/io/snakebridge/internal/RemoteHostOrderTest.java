package io.snakebridge.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.snakebridge.BridgeConfig;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The order remote hosts are tried in (PROTOCOL.md REMOTE-5): as given, or shuffled per connect with loadBalanceHosts. */
class RemoteHostOrderTest {
    private static final List<String> HOSTS = List.of("py1:7171", "py2:7171", "py3:7171");

    @Test
    void withoutLoadBalanceHostsTheHostsAreTriedInTheOrderGiven() {
        BridgeConfig config = BridgeConfig.builder().hosts(HOSTS.toArray(new String[0])).build();
        for (long seed = 0; seed < 20; seed++) {
            assertThat(RemoteWorkers.order(config, new Random(seed))).containsExactlyElementsOf(HOSTS);
        }
    }

    @Test
    void withLoadBalanceHostsEachConnectTriesEveryHostOnceInAnOrderOfItsOwn() {
        BridgeConfig config = BridgeConfig.builder().hosts(HOSTS.toArray(new String[0])).loadBalanceHosts(true).build();
        Set<List<String>> orders = new HashSet<>();
        Set<String> firsts = new HashSet<>();
        for (long seed = 0; seed < 60; seed++) { // fixed seeds: the same orders every run
            List<String> order = RemoteWorkers.order(config, new Random(seed));
            assertThat(order).containsExactlyInAnyOrderElementsOf(HOSTS);
            orders.add(order);
            firsts.add(order.get(0));
        }
        assertThat(firsts).as("every host is tried first by some connect").containsExactlyInAnyOrderElementsOf(HOSTS);
        assertThat(orders).as("all six orders of three hosts occur").hasSize(6);
        assertThat(config.hosts()).as("the config's own list is untouched").containsExactlyElementsOf(HOSTS);
    }
}

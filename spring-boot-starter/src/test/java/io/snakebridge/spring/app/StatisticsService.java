package io.snakebridge.spring.app;

import io.snakebridge.BridgeConnection;
import io.snakebridge.pool.BridgePool;
import java.util.List;
import org.springframework.stereotype.Service;

/** The README's service: the injected pool, a borrow per use. */
@Service
public class StatisticsService {
    private final BridgePool python;

    public StatisticsService(BridgePool python) {
        this.python = python;
    }

    public double mean(List<Double> values) {
        try (BridgeConnection py = python.getConnection()) {
            return py.call("statistics.mean", values).asDouble();
        }
    }
}

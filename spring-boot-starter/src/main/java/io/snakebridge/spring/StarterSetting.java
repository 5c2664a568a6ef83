package io.snakebridge.spring;

import java.time.Duration;

/** The starter's own settings, beside the pool's and the workers': the one place their defaults live. */
enum StarterSetting {
    SHUTDOWN_GRACE_PERIOD("shutdownGracePeriod", Duration.ofSeconds(30),
            "On context close, how long calls running on borrowed connections get to finish before they are cancelled."),
    HEALTH_TIMEOUT("healthTimeout", Duration.ofSeconds(5),
            "How long the health check waits for a free worker and for its ping.");

    private final String key;
    private final Duration defaultValue;
    private final String meaning;

    StarterSetting(String key, Duration defaultValue, String meaning) {
        this.key = key;
        this.defaultValue = defaultValue;
        this.meaning = meaning;
    }

    String key() {
        return key;
    }

    Duration defaultValue() {
        return defaultValue;
    }

    String meaning() {
        return meaning;
    }
}

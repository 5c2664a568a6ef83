package io.snakebridge.spring;

import io.snakebridge.BridgeConfig;
import io.snakebridge.BridgeSetting;
import io.snakebridge.pool.BridgePoolConfig;
import java.time.Duration;
import java.util.Locale;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;

/**
 * Reads {@code snakebridge.*} from the application's environment: every {@link BridgeSetting} (so a
 * setting added to the driver is bound here without a change), every {@link PoolSetting} and the
 * starter's own {@link StarterSetting}s, each under its name in Spring's kebab case
 * ({@code maxRefs} is {@code snakebridge.max-refs}). Values bind by type as Spring binds anything
 * ({@code 30s} or {@code PT30S}, {@code evict-lru} or {@code EVICT_LRU}); an unset one keeps the
 * default that lives in the driver or the pool. A bad value fails the application's start naming the
 * property.
 */
final class SnakeBridgeProperties {
    static final String PREFIX = "snakebridge";

    private final Binder binder;

    SnakeBridgeProperties(Binder binder) {
        this.binder = binder;
    }

    /** {@code maxRefs} becomes {@code snakebridge.max-refs}. */
    static String propertyName(String key) {
        return PREFIX + "." + key.replaceAll("([A-Z])", "-$1").toLowerCase(Locale.ROOT);
    }

    /** The workers' settings: the bound ones over the driver's defaults. */
    BridgeConfig.Builder workers() {
        BridgeConfig.Builder builder = BridgeConfig.builder();
        for (BridgeSetting setting : BridgeSetting.values()) {
            binder.bind(propertyName(setting.key()), Bindable.of(setting.type())).ifBound(value -> {
                String text = value instanceof Enum<?> ? ((Enum<?>) value).name() : value.toString(); // as a URL writes it
                try {
                    setting.applyTo(builder, text);
                } catch (IllegalArgumentException e) {
                    throw invalid(setting.key(), text, e);
                }
            });
        }
        try {
            builder.build(); // the checks that involve several settings
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("bad " + PREFIX + ".* properties: " + e.getMessage(), e);
        }
        return builder;
    }

    /** The pool's settings: the bound ones over the pool's defaults, without the workers' (set apart). */
    BridgePoolConfig.Builder pool() {
        BridgePoolConfig.Builder builder = BridgePoolConfig.builder();
        for (PoolSetting setting : PoolSetting.values()) {
            binder.bind(propertyName(setting.key()), Bindable.of(setting.type())).ifBound(value -> {
                try {
                    setting.apply(builder, value);
                } catch (IllegalArgumentException e) {
                    throw invalid(setting.key(), value, e);
                }
            });
        }
        return builder;
    }

    Duration duration(StarterSetting setting) {
        Duration value = binder.bind(propertyName(setting.key()), Duration.class).orElse(setting.defaultValue());
        if (value.isNegative() || value.isZero() && setting == StarterSetting.HEALTH_TIMEOUT) {
            throw invalid(setting.key(), value, new IllegalArgumentException(
                    setting == StarterSetting.HEALTH_TIMEOUT ? "must be positive" : "must not be negative"));
        }
        return value;
    }

    private static IllegalArgumentException invalid(String key, Object value, IllegalArgumentException e) {
        return new IllegalArgumentException("bad value '" + value + "' for property " + propertyName(key) + ": " + e.getMessage(), e);
    }
}

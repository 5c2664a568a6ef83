package io.snakebridge.spring.app;

import org.springframework.boot.autoconfigure.SpringBootApplication;

/** The README's application: nothing but the starter and a service that uses the pool. */
@SpringBootApplication
public class StatisticsApplication {
}

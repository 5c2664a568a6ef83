package io.snakebridge;

/** A Python complex number. */
public record PyComplex(double real, double imag) {
}

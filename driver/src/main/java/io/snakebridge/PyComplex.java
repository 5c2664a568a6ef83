package io.snakebridge;

/**
 * A Python complex number.
 *
 * @param real the real part
 * @param imag the imaginary part
 */
public record PyComplex(double real, double imag) {
}

package io.snakebridge;

/**
 * A request reached outside the session's module policy ({@code allowModules}/{@code denyModules}):
 * refused before any import (SQLState 42501, insufficient privilege).
 */
public class ModuleNotAllowedException extends BridgeException {
    private static final long serialVersionUID = 1L;

    /** The refused module, or null. */
    private final String module;

    /**
     * Creates the exception.
     *
     * @param module the module that was refused, or null for a refused attribute path
     * @param message what was refused, and by which rule
     */
    public ModuleNotAllowedException(String module, String message) {
        super("policy_denied", "42501", message, null);
        this.module = module;
    }

    /**
     * The module that was refused.
     *
     * @return the module's name, or null for a refused attribute path (such as {@code __globals__})
     */
    public String module() {
        return module;
    }
}

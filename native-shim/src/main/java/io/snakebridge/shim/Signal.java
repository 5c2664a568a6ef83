package io.snakebridge.shim;

/** The POSIX signals the shim sends to a worker (Linux numbering). Public: {@link WorkerProcess#signal} takes one. */
public enum Signal {
    /** Raises KeyboardInterrupt inside the running Python call. */
    INT(2),
    /** Asks the worker to exit. */
    TERM(15),
    /** Ends the worker at once. */
    KILL(9);

    private final int number;

    Signal(int number) {
        this.number = number;
    }

    public int number() {
        return number;
    }

    /** The signal with this number, or null: e.g. to name the signal that ended a worker. */
    public static String nameOf(int number) {
        for (Signal s : values()) {
            if (s.number == number) {
                return "SIG" + s.name();
            }
        }
        return number == 11 ? "SIGSEGV" : number == 6 ? "SIGABRT" : "signal " + number;
    }
}

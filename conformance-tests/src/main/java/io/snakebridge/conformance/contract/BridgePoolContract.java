package io.snakebridge.conformance.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.snakebridge.BridgeClosedException;
import io.snakebridge.BridgeConnection;
import io.snakebridge.RefHandle;
import io.snakebridge.RefNotFoundException;
import io.snakebridge.conformance.Requirement;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The pool contract: extend it and supply {@link #borrow()} from a pool of one worker, to check that
 * returning a connection hands the next borrower a clean session.
 */
public abstract class BridgePoolContract {

    /** Borrows from a pool holding exactly one worker. */
    protected abstract BridgeConnection borrow();

    @Test
    @Tag("client")
    @Requirement("CLIENT-3")
    void theNextBorrowerSeesNoneOfThePreviousBorrowersRefs() {
        RefHandle leftOpen;
        try (BridgeConnection first = borrow()) {
            leftOpen = first.callRef("types.SimpleNamespace");
            leftOpen.setAttr("secret", 1);
        }
        try (BridgeConnection second = borrow()) {
            assertThat(second.workerLiveRefs()).isZero();
            // the pool reset the session on return: as after BridgeConnection.resetSession (CLIENT-3)
            assertThatThrownBy(() -> leftOpen.getAttr("secret")).isInstanceOfSatisfying(RefNotFoundException.class,
                    e -> assertThat(e.reason()).isEqualTo(RefNotFoundException.Reason.SESSION_RELEASED));
            assertThatThrownBy(() -> second.call("getattr", leftOpen, "secret")).isInstanceOfSatisfying(RefNotFoundException.class,
                    e -> assertThat(e.reason()).isEqualTo(RefNotFoundException.Reason.SESSION_RELEASED));
        }
    }

    @Test
    @Tag("client")
    @Requirement("CLIENT-1")
    void aReturnedConnectionFailsFastForItsFormerBorrower() {
        BridgeConnection py = borrow();
        py.close();
        py.close();
        assertThatThrownBy(() -> py.call("len", "x")).isInstanceOfSatisfying(BridgeClosedException.class,
                e -> assertThat(e.sqlState()).isEqualTo("08003"));
    }
}

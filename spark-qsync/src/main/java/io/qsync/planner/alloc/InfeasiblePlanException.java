package io.qsync.planner.alloc;

/** No plan satisfies the request; the message names the device, the layer and what to change. */
public final class InfeasiblePlanException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    /** @param message what is infeasible and what to change */
    public InfeasiblePlanException(String message) {
        super(message);
    }
}

/**
 * Runs `step` until it reports no more work. A call while a run is going returns that run and
 * makes it go round once more, so a burst of notifications costs one extra pass, not one each.
 */
export class CoalescedRunner {
  private running: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly step: () => Promise<boolean>,
    private readonly onError: (e: unknown) => void,
    private readonly stopped: () => boolean = () => false,
  ) {}

  kick(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    // Cleared by a callback attached after the promise is stored: a run with nothing to do ends
    // without awaiting, and clearing from inside it would come before the assignment.
    this.running = this.loop().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async loop(): Promise<void> {
    try {
      do {
        this.again = false;
        while (!this.stopped() && (await this.step()));
      } while (this.again && !this.stopped());
    } catch (e) {
      this.onError(e);
    }
  }

  /** Resolves when no run is going. */
  idle(): Promise<void> {
    return this.running ?? Promise.resolve();
  }
}

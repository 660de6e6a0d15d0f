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
    this.running = (async () => {
      try {
        do {
          this.again = false;
          while (!this.stopped() && (await this.step()));
        } while (this.again && !this.stopped());
      } catch (e) {
        this.onError(e);
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  /** Resolves when no run is going. */
  idle(): Promise<void> {
    return this.running ?? Promise.resolve();
  }
}

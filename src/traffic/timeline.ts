/** One step of a failover as it happened. */
export interface TimelineStep {
  step: string;
  /** ms from the failover's start. */
  startMs: number;
  durationMs: number;
  status: 'done' | 'skipped' | 'failed';
  detail: string;
}

/** The steps of a run, timed against its start, told as they finish. */
export class Timeline {
  readonly steps: TimelineStep[] = [];
  private readonly started = performance.now();
  private readonly onStep: (step: TimelineStep, phase: 'start' | 'end') => void;
  constructor(onStep: (step: TimelineStep, phase: 'start' | 'end') => void = () => undefined) {
    this.onStep = onStep;
  }

  now(): number {
    return Math.round(performance.now() - this.started);
  }

  /** Runs a step; its result is its detail line. A thrown error fails the step and the run. */
  async run(step: string, work: () => Promise<string>): Promise<void> {
    const startMs = this.now();
    this.onStep({ step, startMs, durationMs: 0, status: 'done', detail: '' }, 'start');
    try {
      const detail = await work();
      this.record({ step, startMs, durationMs: this.now() - startMs, status: 'done', detail });
    } catch (error) {
      this.record({ step, startMs, durationMs: this.now() - startMs, status: 'failed', detail: error instanceof Error ? error.message : String(error) });
      throw error;
    }
  }

  skip(step: string, why: string): void {
    this.record({ step, startMs: this.now(), durationMs: 0, status: 'skipped', detail: why });
  }

  private record(step: TimelineStep): void {
    this.steps.push(step);
    this.onStep(step, 'end');
  }
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

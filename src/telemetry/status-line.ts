// The live status line of `mine` on a terminal: one line on stderr, rewritten in place (\r) at
// most once a second. Log lines clear it first and it is drawn again on the next tick.
import type { Logger } from './logger.js';

export class StatusLine {
  private shown = false;
  private lastDraw = 0;

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly render: () => string,
  ) {}

  /** Only on a terminal, and only with text logs (JSON logs are for machines). */
  static wanted(stream: NodeJS.WriteStream, logFormat: string): boolean {
    return stream.isTTY === true && logFormat === 'text';
  }

  /** Redraws, throttled to once a second. */
  tick(now = Date.now()): void {
    if (now - this.lastDraw < 1000) return;
    this.lastDraw = now;
    const width = Math.max(20, (this.stream.columns ?? 100) - 1);
    let line = this.render();
    if (line.length > width) line = `${line.slice(0, width - 1)}…`;
    this.stream.write(`\r\x1b[K${line}`);
    this.shown = true;
  }

  clear(): void {
    if (!this.shown) return;
    this.stream.write('\r\x1b[K');
    this.shown = false;
  }

  /** A logger whose lines do not collide with the status line. */
  wrap(log: Logger): Logger {
    return (level, msg, fields) => {
      this.clear();
      this.lastDraw = 0;
      log(level, msg, fields);
    };
  }
}

// One logger for the service: human-readable lines on a terminal, or structured JSON lines
// (pino) with --log-format json. Domain code receives a Logger; it never decides the format.
import pino from 'pino';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Readonly<Record<string, unknown>>;
export type Logger = (level: LogLevel, msg: string, fields?: LogFields) => void;

function formatValue(value: unknown): string {
  if (typeof value === 'string') return /\s/.test(value) ? JSON.stringify(value) : value;
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : value.toFixed(3);
  return JSON.stringify(value);
}

/** Text lines on stderr: `2026-11-22T02:10:00Z warn message key=value ...`; debug lines only when asked. */
export function textLogger(write: (line: string) => void = (l) => process.stderr.write(l), debug = false): Logger {
  return (level, msg, fields) => {
    if (level === 'debug' && !debug) return;
    const time = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const extra = fields
      ? Object.entries(fields)
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => ` ${k}=${formatValue(v)}`)
          .join('')
      : '';
    write(`${time} ${level.padEnd(5)} ${msg}${extra}\n`);
  };
}

/** JSON lines on stderr through pino. */
export function jsonLogger(debug = false): Logger {
  const log = pino({ base: { app: 'solominer' }, level: debug ? 'debug' : 'info', timestamp: pino.stdTimeFunctions.isoTime }, pino.destination({ fd: 2, sync: true }));
  return (level, msg, fields) => log[level](fields ?? {}, msg);
}

export function createLogger(format: 'text' | 'json', level: 'info' | 'debug' = 'info'): Logger {
  return format === 'json' ? jsonLogger(level === 'debug') : textLogger(undefined, level === 'debug');
}

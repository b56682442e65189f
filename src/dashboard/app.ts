// The dashboard page's entry point: one EventSource on /events, no polling. The server sends the
// hash-rate history first, then the status every couple of seconds and each new sample; a dropped
// stream is reopened by EventSource itself. One the server ended for good (a 401 once the
// session expired, a proxy's error page) is opened again after a pause.
import { RateChart } from './chart.js';
import { renderStatus, setConnection } from './view.js';
import { EVENT_NAMES, type HistoryColumns, type MinerStatus, type RateSample } from '../telemetry/status-document.js';

const REOPEN_AFTER_MS = 10_000;

const chart = new RateChart(document.getElementById('chart')!);
let intervalSeconds = 10;

function on<T>(source: EventSource, name: string, handle: (data: T) => void): void {
  source.addEventListener(name, (event) => handle(JSON.parse((event as MessageEvent<string>).data) as T));
}

function connect(): void {
  const source = new EventSource('/events');
  setConnection('connecting');
  source.addEventListener('open', () => setConnection('live'));
  source.addEventListener('error', () => {
    if (source.readyState !== EventSource.CLOSED) {
      setConnection('reconnecting');
      return;
    }
    setConnection('closed');
    setTimeout(connect, REOPEN_AFTER_MS);
  });
  on<HistoryColumns>(source, EVENT_NAMES.history, (history) => {
    intervalSeconds = history.intervalSeconds;
    chart.setHistory(history);
  });
  on<RateSample>(source, EVENT_NAMES.sample, (sample) => chart.append(sample, intervalSeconds));
  on<MinerStatus>(source, EVENT_NAMES.status, renderStatus);
}

connect();

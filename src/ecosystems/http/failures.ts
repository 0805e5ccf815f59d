import type { AuditEvent } from '../../core/metadata.js';

export interface FailureLimits {
  /** Failures a client address, or a claimed name, may have in one window before it waits. */
  max: number;
  windowMs: number;
  /** Windows kept per kind (addresses, names); beyond it the oldest is summarised early and dropped. */
  maxKeys: number;
}

export const LOGIN_LIMITS: FailureLimits = { max: 5, windowMs: 60_000, maxKeys: 10_000 };

/** A summary lists at most this many of the addresses or names it saw. */
const SAMPLE = 8;

interface Window {
  start: number;
  last: number;
  /** Credentials checked and wrong. */
  failures: number;
  /** Attempts refused unchecked because this window was over the limit. */
  throttled: number;
  seen: Set<string>;
}

/**
 * Failed logins, limited per client address and per claimed name in fixed windows, and
 * audited without letting an attacker write the log: the first failure of a name in a window
 * is an entry at once; the rest of that window becomes one entry with their count when it
 * ends. Attempts refused because an address was over its limit (whatever names they claimed)
 * become one entry per address and window, so spraying names does not add entries either.
 */
export class FailedLogins {
  private readonly byAddress = new Map<string, Window>();
  private readonly byName = new Map<string, Window>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    /** Where its entries go (ServeContext.audit). */
    private readonly audit: (e: AuditEvent) => Promise<void>,
    /** The audit action, and the prefix of the actor a failure is written as (`<actor>:<name>`). */
    private readonly who: { action: string; actor: string },
    private readonly limits: FailureLimits = LOGIN_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Windows held in memory (both kinds). */
  get size(): number {
    return this.byAddress.size + this.byName.size;
  }

  /**
   * Seconds `address` claiming `name` must wait, or 0 when it may try. A refused attempt is
   * counted in the window that refused it (the name's when both do).
   */
  async retryAfter(address: string, name: string): Promise<number> {
    await this.sweep();
    const t = this.now();
    const over = (w: Window | undefined) => (w && w.failures >= this.limits.max ? w : undefined);
    const nameWindow = over(this.byName.get(name));
    const addressWindow = over(this.byAddress.get(address));
    const blocking = nameWindow ?? addressWindow;
    if (!blocking) return 0;
    blocking.throttled++;
    blocking.last = t;
    sample(blocking.seen, nameWindow ? address : name);
    const end = (w: typeof nameWindow): number => (w ? w.start + this.limits.windowMs : 0);
    const ends = Math.max(end(nameWindow), end(addressWindow));
    return Math.max(1, Math.ceil((ends - t) / 1000));
  }

  /** Counts a failed attempt; the first of a name's window is audited now, the rest when the window ends. */
  async failed(address: string, name: string): Promise<void> {
    await this.sweep();
    const t = this.now();
    this.open(this.byAddress, address, t).failures++;
    const w = this.open(this.byName, name, t);
    w.failures++;
    w.last = t;
    sample(w.seen, address);
    if (w.failures === 1)
      await this.audit({
        actor: `${this.who.actor}:${name}`,
        action: this.who.action,
        subject: name,
        outcome: 'refused',
        detail: { address },
      });
    this.schedule();
  }

  /** Summarises every open window (the server is stopping). */
  async flush(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    for (const [map, kind] of [
      [this.byName, 'name'],
      [this.byAddress, 'address'],
    ] as const) {
      for (const [key, w] of [...map]) {
        map.delete(key);
        await this.summarise(kind, key, w);
      }
    }
  }

  private open(map: Map<string, Window>, key: string, t: number): Window {
    const w = map.get(key);
    if (w) return w;
    const fresh: Window = { start: t, last: t, failures: 0, throttled: 0, seen: new Set() };
    map.set(key, fresh);
    return fresh;
  }

  /**
   * Windows sit in each map in the order they opened, so the expired ones are at the front,
   * and so is the one to drop when a map is full.
   */
  private async sweep(): Promise<void> {
    const t = this.now();
    for (const [map, kind] of [
      [this.byName, 'name'],
      [this.byAddress, 'address'],
    ] as const) {
      for (const [key, w] of map) {
        if (t < w.start + this.limits.windowMs && map.size < this.limits.maxKeys) break;
        map.delete(key);
        await this.summarise(kind, key, w);
      }
    }
    if (this.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.sweep().catch(() => undefined), this.limits.windowMs);
    this.timer.unref();
  }

  private async summarise(kind: 'name' | 'address', key: string, w: Window): Promise<void> {
    const window = { from: new Date(w.start).toISOString(), to: new Date(w.last).toISOString() };
    const seen = [...w.seen];
    if (kind === 'name' && (w.failures > 1 || w.throttled > 0)) {
      await this.audit({
        actor: `${this.who.actor}:${key}`,
        action: this.who.action,
        subject: key,
        outcome: 'refused',
        detail: { attempts: w.failures - 1, ...(w.throttled ? { throttled: w.throttled } : {}), addresses: seen, ...window },
      });
    }
    if (kind === 'address' && w.throttled > 0) {
      await this.audit({
        actor: 'anonymous',
        action: this.who.action,
        subject: key,
        outcome: 'throttled',
        detail: { attempts: w.throttled, names: seen, ...window },
      });
    }
  }
}

function sample(set: Set<string>, value: string): void {
  if (set.size < SAMPLE) set.add(value);
}

// Actions of this tablet, kept in localStorage with their idempotency keys and device times until the server
// has answered. They are sent in order; while the network is down they wait, and a reload loses nothing.
// A shared tablet: every action names the staff member who did it, and is sent only while that person is signed
// in, so it is recorded as theirs or not at all; another person's actions wait, held, until they sign in again.

import { ApiError, NetworkError, api } from "./api.js";

const KEPT_ANSWERED = 30;

export class ActionQueue {
  constructor(school, staffId, onChange) {
    this.storageKey = `handoff.queue.${school}`;
    this.staffId = staffId;
    this.onChange = onChange;
    this.sending = null;
    this.items = this.load();
  }

  load() {
    try {
      return JSON.parse(localStorage.getItem(this.storageKey)) ?? [];
    } catch {
      return [];
    }
  }

  save() {
    const waiting = this.items.filter((item) => item.state === "pending");
    const answered = this.items.filter((item) => item.state !== "pending").slice(-KEPT_ANSWERED);
    this.items = this.items.filter((item) => waiting.includes(item) || answered.includes(item));
    localStorage.setItem(this.storageKey, JSON.stringify(this.items));
    this.onChange(this.items);
  }

  /** This person's actions still waiting to be sent. */
  pending() {
    return this.items.filter((item) => item.state === "pending" && this.mine(item));
  }

  /** Another person's actions waiting for them to sign in again on this tablet. */
  held() {
    return this.items.filter((item) => item.state === "pending" && !this.mine(item));
  }

  mine(item) {
    return item.staff_id === this.staffId;
  }

  /** Keep an action (its key and device time are fixed now, and reused on every retry), then try to send. */
  async add(action) {
    const item = { ...action, staff_id: this.staffId, state: "pending", queued_at: new Date().toISOString() };
    this.items.push(item);
    this.save();
    await this.flush();
    return this.items.find((found) => found.key === item.key) ?? item;
  }

  dismiss(key) {
    this.items = this.items.filter((item) => item.key !== key);
    this.save();
  }

  /** Send every waiting action in order; stop at the first that cannot reach the server. A call during a round
   * waits for it, then starts a round of its own, so that an action added meanwhile is not left behind. */
  async flush() {
    while (this.sending) {
      await this.sending;
    }
    this.sending = this.sendAll().finally(() => {
      this.sending = null;
    });
    return this.sending;
  }

  async sendAll() {
    for (const item of this.pending()) {
      if (!navigator.onLine) {
        return;
      }
      try {
        const answer = await api(item.path, {
          method: item.method ?? "POST",
          body: item.body,
          headers: { "Idempotency-Key": item.key, Prefer: "wait-for-views" },
        });
        item.state = answer.outcome === "refused" ? "refused" : "done";
        item.answer = answer;
      } catch (error) {
        if (error instanceof NetworkError || (error instanceof ApiError && error.status >= 500)) {
          return;
        }
        item.state = "rejected";
        item.error = { status: error.status, code: error.code, message: error.message, body: error.body };
      }
      item.answered_at = new Date().toISOString();
      this.save();
      await this.onAnswered?.(item);
    }
  }
}

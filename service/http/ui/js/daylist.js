// The day's children as this tablet keeps them, so that a child's card opens after a reload without network.
// Only ids, codes, statuses, classes and places are kept (the server's `ui/day` answer has no names, and a card
// seen online is stripped of its names before it is kept): names, phone numbers and priority categories stay in
// memory, shown only while the tablet is online.

import { api, schoolPath } from "./api.js";

const REFRESH_MS = 60_000;

export class DayList {
  constructor(school) {
    this.school = school;
    this.storageKey = `handoff.day.${school}`;
    this.fetchedAt = 0;
  }

  load() {
    try {
      return JSON.parse(localStorage.getItem(this.storageKey)) ?? { service_day: null, items: [] };
    } catch {
      return { service_day: null, items: [] };
    }
  }

  /** Fetch the day's cards (at most once a minute unless forced); offline, what is kept stays. */
  async refresh(force = false) {
    if (!force && Date.now() - this.fetchedAt < REFRESH_MS) {
      return;
    }
    try {
      const day = await api(schoolPath(this.school, "ui/day"));
      localStorage.setItem(this.storageKey, JSON.stringify({ service_day: day.service_day, items: day.items.map(withoutNames) }));
      this.fetchedAt = Date.now();
    } catch {
      // offline or refused: the kept list stays as it was
    }
  }

  /** Keep a card as it now stands (after a read online, or an action waiting to be sent), without its names. */
  keep(card) {
    const day = this.load();
    const kept = withoutNames(card);
    day.items = [...day.items.filter((item) => item.child_id !== card.child_id), kept];
    localStorage.setItem(this.storageKey, JSON.stringify(day));
  }

  /** The kept card of a child of today (serviceDay), or null. */
  card(childId, serviceDay) {
    const day = this.load();
    if (serviceDay && day.service_day && day.service_day !== serviceDay) {
      return null;
    }
    const found = day.items.find((item) => item.child_id === childId);
    return found ? structuredClone(found) : null;
  }

  /** Today's kept children whose number, home class or temporary class matches (names are not kept). */
  find(query, serviceDay) {
    const day = this.load();
    if (serviceDay && day.service_day && day.service_day !== serviceDay) {
      return [];
    }
    const wanted = query.trim().toLowerCase();
    const keys = (item) => [item.child_id, item.home_class, item.temporary_class].filter(Boolean);
    return day.items.filter((item) => keys(item).some((key) => key.toLowerCase().includes(wanted)));
  }
}

/** A card with only what may stay on the device: every name left out, by naming what is kept. */
function withoutNames(card) {
  return {
    child_id: card.child_id,
    has_photo: card.has_photo,
    home_class: card.home_class,
    grade: card.grade,
    custody: card.custody,
    temporary_class: card.temporary_class,
    pickup_code_attempts_left: card.pickup_code_attempts_left,
    self_release_not_before: card.self_release_not_before,
    guardians: (card.guardians ?? []).map((g) => ({
      guardian_id: g.guardian_id,
      relation: g.relation,
      authorised_today: g.authorised_today,
      has_photo: g.has_photo,
    })),
  };
}

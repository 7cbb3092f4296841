// Merging a polled "since" page into the anomaly feed on screen.

export interface FeedItem {
  id: string;
  created_at: string;
}

/** Newest first, each id once; items from `incoming` replace older copies (their status may have moved). */
export function mergeFeed<T extends FeedItem>(current: T[], incoming: T[]): T[] {
  const byId = new Map<string, T>();
  for (const item of [...incoming, ...current]) {
    if (!byId.has(item.id)) byId.set(item.id, item);
  }
  return [...byId.values()].sort((a, b) => b.created_at.localeCompare(a.created_at));
}

/** The later of two cursors (ISO 8601 instants of the same zone), ignoring missing ones. */
export function laterCursor(a: string | null | undefined, b: string | null | undefined): string | null {
  if (!a) return b ?? null;
  if (!b) return a;
  return new Date(a).getTime() >= new Date(b).getTime() ? a : b;
}

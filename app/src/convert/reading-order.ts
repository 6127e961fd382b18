// The order a reader takes a slide's shapes in. A slide stores shapes in z-order (what was drawn
// last is on top), which is not reading order: a text box added late at the top of the slide
// comes last. So titles go first, then shapes whose position is known are read top to bottom and
// left to right; shapes whose position the slide does not state (placeholders that inherit it
// from their layout) keep their place in the stored order.

export interface Placed<T> {
  readonly item: T;
  readonly title: boolean;
  /** Top-left corner in any one unit, when the file states it. */
  readonly position?: { readonly x: number; readonly y: number };
}

/** Shapes whose tops differ by less than this fraction of the tallest top count as one row. */
const ROW_TOLERANCE = 0.02;

export function readingOrder<T>(shapes: readonly Placed<T>[]): T[] {
  const titles = shapes.filter((shape) => shape.title);
  const rest = shapes.filter((shape) => !shape.title);
  const placed = rest.filter((shape) => shape.position !== undefined);
  const maxY = Math.max(1, ...placed.map((shape) => shape.position?.y ?? 0));
  const tolerance = maxY * ROW_TOLERANCE;
  const sorted = [...placed].sort((a, b) => {
    const [pa, pb] = [a.position ?? { x: 0, y: 0 }, b.position ?? { x: 0, y: 0 }];
    return Math.abs(pa.y - pb.y) > tolerance ? pa.y - pb.y : pa.x - pb.x;
  });
  // The positioned shapes take the slots positioned shapes held, in their sorted order.
  let next = 0;
  const ordered = rest.map((shape) => (shape.position === undefined ? shape : (sorted[next++] ?? shape)));
  return [...titles, ...ordered].map((shape) => shape.item);
}

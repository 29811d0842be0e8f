// Words the pages show the same way everywhere.

/** "1 photo", "3 photos". */
export function photoCount(photos) {
  return `${photos} photo${photos === 1 ? '' : 's'}`;
}

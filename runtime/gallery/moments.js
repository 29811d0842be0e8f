// Time in the gallery: the "On this day" strip at the library's top (photos taken around
// today's date in earlier years, by year, on the viewer's own clock) and the date range that
// narrows a search (`#/search?q=…&from=YYYY-MM-DD&to=YYYY-MM-DD`).

import { call } from './api.js';
import { photoCount } from './words.js';

/** The viewer's IANA time zone: the clock "today" and dates are on. */
export function timeZone() {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

function yearsAgo(years) {
  return years === 1 ? 'A year ago' : `${years} years ago`;
}

/** The strip, before `before`, when there are memories; nothing otherwise (or on an error:
 * the library is shown all the same). */
export async function onThisDay(main, before) {
  let found;
  try {
    found = await call('GET', `memories?tz=${encodeURIComponent(timeZone())}`);
  } catch {
    return;
  }
  if (!found.memories.length) return;
  const section = document.createElement('section');
  section.className = 'memories';
  section.setAttribute('aria-label', 'On this day');
  const title = document.createElement('h2');
  title.textContent = 'On this day';
  const years = document.createElement('ul');
  for (const memory of found.memories) {
    const year = document.createElement('li');
    const link = document.createElement('a');
    link.href = `#/search?from=${memory.taken_from}&to=${memory.taken_to}`;
    const name = document.createElement('strong');
    name.textContent = `${yearsAgo(memory.years_ago)} · ${memory.year}`;
    const strip = document.createElement('span');
    strip.className = 'thumbs';
    for (const photo of memory.photos.slice(0, 4)) {
      const image = document.createElement('img');
      image.alt = '';
      image.loading = 'lazy';
      if (photo.color) image.style.backgroundColor = photo.color;
      if (photo.thumbnail_url) image.src = photo.thumbnail_url;
      strip.append(image);
    }
    const counted = document.createElement('span');
    counted.textContent = photoCount(memory.photos.length);
    link.append(name, strip, counted);
    year.append(link);
    years.append(year);
  }
  section.append(title, years);
  main.insertBefore(section, before || null);
}

/** The date range of a search: from and to (either may be empty), applied by `go(from, to)`. */
export function dateRange(from, to, go) {
  const form = document.createElement('form');
  form.className = 'date-range';
  form.setAttribute('aria-label', 'Taken between');
  const field = (text, name, value) => {
    const label = document.createElement('label');
    label.textContent = `${text} `;
    const input = document.createElement('input');
    input.type = 'date';
    input.name = name;
    input.value = value || '';
    label.append(input);
    return label;
  };
  const apply = document.createElement('button');
  apply.type = 'submit';
  apply.textContent = 'Apply dates';
  const clear = document.createElement('button');
  clear.type = 'button';
  clear.className = 'quiet';
  clear.textContent = 'Any date';
  clear.hidden = !from && !to;
  form.append(field('Taken from', 'from', from), field('to', 'to', to), apply, clear);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    go(form.elements.from.value, form.elements.to.value);
  });
  clear.addEventListener('click', () => go('', ''));
  return form;
}

/** The API's parameters of a date range, on the viewer's clock. */
export function takenParams(from, to) {
  const params = new URLSearchParams();
  if (from) params.set('taken_from', from);
  if (to) params.set('taken_to', to);
  if (from || to) params.set('tz', timeZone());
  return params;
}

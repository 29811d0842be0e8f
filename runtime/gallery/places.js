// The places page: the countries the user's photos were taken in, most photos first, each
// with its cover, count and cities; a place opens its photos (`#/place/NAME`, a city within
// its country: `#/place/CITY?in=COUNTRY`). Names are set as text, never as markup.

import { call } from './api.js';
import { heading, notice } from './views.js';
import { photoCount } from './words.js';

function placeCard(name, detail, photos, thumbnail, href) {
  const card = document.createElement('li');
  const link = document.createElement('a');
  link.href = href;
  const cover = document.createElement('img');
  cover.loading = 'lazy';
  cover.alt = '';
  if (thumbnail) cover.src = thumbnail;
  const title = document.createElement('strong');
  title.textContent = name;
  const counted = document.createElement('span');
  counted.textContent = detail ? `${detail} · ${photoCount(photos)}` : photoCount(photos);
  link.append(cover, title, counted);
  card.append(link);
  return card;
}

/** `#/place/…` for a place name, a city within its country. */
export function placeHref(name, country) {
  const within = country && country !== name ? `?in=${encodeURIComponent(country)}` : '';
  return `#/place/${encodeURIComponent(name)}${within}`;
}

export async function places(main) {
  main.append(heading('Places'));
  const listed = await call('GET', 'places');
  if (!listed.countries.length) {
    return main.append(notice('No places yet: photos taken with location turned on are placed here by where they were taken.'));
  }
  for (const country of listed.countries) {
    const section = document.createElement('section');
    section.className = 'country';
    section.dataset.country = country.country_code;
    const title = document.createElement('h2');
    const link = document.createElement('a');
    link.href = placeHref(country.country);
    link.textContent = country.country;
    const counted = document.createElement('span');
    counted.className = 'count';
    counted.textContent = ` ${photoCount(country.photo_count)}`;
    title.append(link, counted);
    const cards = document.createElement('ul');
    cards.className = 'cards';
    for (const city of country.cities) {
      const region = city.region && city.region !== city.city ? city.region : '';
      cards.append(placeCard(city.city, region, city.photo_count, city.cover_thumbnail_url, placeHref(city.city, country.country)));
    }
    section.append(title, cards);
    main.append(section);
  }
}

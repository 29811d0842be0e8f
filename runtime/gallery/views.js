// The albums page (the user's collections, those shared with them, then every label with its
// cover and count: "Things", by top category, a label of exactly another's photos shown once
// under the more specific one), the people page (every person
// with a face cover: rename in place, hide, merge by selecting several) and a person's "Same
// person?" questions. Every name and label is set as text, never as markup.

import { call } from './api.js';
import { collectionSections } from './collections.js';
import { photoCount } from './words.js';

function heading(text) {
  const title = document.createElement('h1');
  title.textContent = text;
  return title;
}

function notice(text) {
  const paragraph = document.createElement('p');
  paragraph.className = 'notice';
  paragraph.textContent = text;
  return paragraph;
}

/** The categories of "Things", in the order shown, with their headings. */
const CATEGORIES = [['people', 'People'], ['animals', 'Animals'], ['food', 'Food and drink'], ['vehicles', 'Vehicles'],
  ['places', 'Places and buildings'], ['text', 'Text and screenshots'], ['things', 'Other things']];

function albumCard(album, also) {
  const card = document.createElement('li');
  const link = document.createElement('a');
  link.href = `#/album/${encodeURIComponent(album.label)}`;
  const cover = document.createElement('img');
  cover.loading = 'lazy';
  cover.alt = '';
  // Photos analysed before thumbnails existed have none: the photo itself then.
  cover.addEventListener('error', () => { if (album.cover_url && cover.src !== album.cover_url) cover.src = album.cover_url; }, { once: true });
  if (album.cover_thumbnail_url || album.cover_url) cover.src = album.cover_thumbnail_url || album.cover_url;
  const name = document.createElement('strong');
  name.textContent = album.label;
  const count = document.createElement('span');
  count.textContent = photoCount(album.photos);
  link.append(cover, name, count);
  if (also.length) {
    const more = document.createElement('span');
    more.className = 'also';
    more.textContent = `also ${also.join(', ')}`;
    link.append(more);
  }
  card.append(link);
  return card;
}

export async function albums(main) {
  main.append(heading('Albums'));
  await collectionSections(main);
  const things = document.createElement('h2');
  things.textContent = 'Things';
  main.append(things);
  const listed = await call('GET', 'albums');
  if (!listed.items.length) return main.append(notice('No albums yet: upload photos and each label they get becomes an album.'));
  // A label holding exactly another's photos is shown once, under the most specific one.
  const also = new Map();
  for (const album of listed.items.filter((item) => item.same_as)) {
    also.set(album.same_as, [...(also.get(album.same_as) || []), album.label]);
  }
  for (const [category, title] of CATEGORIES) {
    const shown = listed.items.filter((album) => album.category === category && !album.same_as);
    if (!shown.length) continue;
    const section = document.createElement('section');
    section.className = 'category';
    section.dataset.category = category;
    const name = document.createElement('h3');
    name.textContent = title;
    const cards = document.createElement('ul');
    cards.className = 'cards';
    shown.forEach((album) => cards.append(albumCard(album, also.get(album.label) || [])));
    section.append(name, cards);
    main.append(section);
  }
}

export async function people(main, reload) {
  main.append(heading('People'));
  const [shown, hidden] = await Promise.all([call('GET', 'persons?limit=100'), call('GET', 'persons?limit=100&hidden=true')]);
  const everyone = [...shown.persons, ...hidden.persons.filter((p) => !shown.persons.some((s) => s.id === p.id))];
  if (!everyone.length) {
    return main.append(notice('No people yet: faces are grouped into people as photos with faces are analysed (on tiers that find faces).'));
  }
  const tools = document.createElement('div');
  tools.className = 'tools';
  const merge = document.createElement('button');
  merge.type = 'button';
  merge.textContent = 'Merge the selected people';
  merge.disabled = true;
  const hint = document.createElement('span');
  hint.className = 'notice';
  hint.textContent = 'Select two or more people who are the same person to merge them.';
  tools.append(merge, hint);
  const cards = document.createElement('ul');
  cards.className = 'cards people';
  const selected = new Set();
  for (const person of everyone) {
    const card = document.createElement('li');
    card.dataset.id = person.id;
    if (person.hidden) card.classList.add('hidden-person');
    const link = document.createElement('a');
    link.href = `#/person/${encodeURIComponent(person.id)}`;
    const cover = document.createElement('img');
    cover.alt = '';
    if (person.cover_url) cover.src = person.cover_url;
    link.append(cover);
    const name = document.createElement('input');
    name.value = person.name || '';
    name.placeholder = 'Add a name';
    name.setAttribute('aria-label', 'Name');
    name.addEventListener('change', async () => {
      try {
        await call('PATCH', `persons/${encodeURIComponent(person.id)}`, { name: name.value.trim() });
        name.classList.remove('invalid');
      } catch (error) {
        name.classList.add('invalid');
        name.title = error.code === 'name_taken' ? 'Another person has this name: select both and merge them.' : error.message;
        window.alert(name.title);
      }
    });
    const count = document.createElement('span');
    count.textContent = photoCount(person.photo_count);
    const pick = document.createElement('label');
    const box = document.createElement('input');
    box.type = 'checkbox';
    box.addEventListener('change', () => {
      if (box.checked) selected.add(person.id); else selected.delete(person.id);
      merge.disabled = selected.size < 2;
    });
    pick.append(box, ' Select');
    const hide = document.createElement('button');
    hide.type = 'button';
    hide.className = 'quiet';
    hide.textContent = person.hidden ? 'Show' : 'Hide';
    hide.addEventListener('click', async () => {
      await call('PATCH', `persons/${encodeURIComponent(person.id)}`, { hidden: !person.hidden });
      reload();
    });
    card.append(link, name, count, pick, hide);
    cards.append(card);
  }
  merge.addEventListener('click', async () => {
    const [into, ...from] = [...selected];
    try {
      await call('POST', `persons/${encodeURIComponent(into)}/merge`, { from });
    } catch (error) {
      window.alert(error.message);
    }
    reload();
  });
  main.append(tools, cards);
}

function faceCover(person) {
  const figure = document.createElement('figure');
  const cover = document.createElement('img');
  cover.alt = person.name || 'Unnamed person';
  if (person.cover_url) cover.src = person.cover_url;
  const caption = document.createElement('figcaption');
  caption.textContent = `${person.name || 'Unnamed'} · ${photoCount(person.photo_count)}`;
  figure.append(cover, caption);
  return figure;
}

// Above a person's photos: each person the service thinks may be the same someone, both
// covers side by side; "Same person" merges the other into this one, "Not the same" is
// remembered (neither asked again nor grouped together).
export async function samePerson(main, person, reload) {
  const { suggestions } = await call('GET', `persons/${encodeURIComponent(person.id)}/suggestions`);
  if (!suggestions.length) return;
  const section = document.createElement('section');
  section.className = 'same-person';
  const title = document.createElement('h2');
  title.textContent = 'Same person?';
  section.append(title);
  for (const { person: other } of suggestions) {
    const pair = document.createElement('div');
    pair.className = 'pair';
    pair.dataset.id = other.id;
    const yes = document.createElement('button');
    yes.type = 'button';
    yes.textContent = 'Same person';
    const no = document.createElement('button');
    no.type = 'button';
    no.className = 'quiet';
    no.textContent = 'Not the same';
    const answer = async (request) => {
      yes.disabled = true;
      no.disabled = true;
      try {
        await request();
        pair.remove();
        if (!section.querySelector('.pair')) section.remove();
      } catch (error) {
        window.alert(error.message);
        yes.disabled = false;
        no.disabled = false;
      }
    };
    yes.addEventListener('click', () => answer(async () => {
      await call('POST', `persons/${encodeURIComponent(person.id)}/merge`, { from: [other.id] });
      reload();
    }));
    no.addEventListener('click', () => answer(() => call('DELETE', `persons/${encodeURIComponent(person.id)}/suggestions/${encodeURIComponent(other.id)}`)));
    const buttons = document.createElement('div');
    buttons.className = 'answers';
    buttons.append(yes, no);
    pair.append(faceCover(person), faceCover(other), buttons);
    section.append(pair);
  }
  main.append(section);
}

/** About: what the service is, and the credits its data asks for. */
export function about(main) {
  main.append(heading('About Smart Album'));
  const what = document.createElement('p');
  what.textContent = 'Smart Album organises your photos by what is in them, who is in them, the text in them, and where and when they were taken.';
  const places = document.createElement('p');
  places.className = 'credit';
  places.append('Places are named with data from ');
  const geonames = document.createElement('a');
  geonames.href = 'https://www.geonames.org/';
  geonames.textContent = 'GeoNames';
  geonames.rel = 'noopener';
  places.append(geonames, ' (cities of 1,000 people or more), licensed under ');
  const licence = document.createElement('a');
  licence.href = 'https://creativecommons.org/licenses/by/4.0/';
  licence.textContent = 'CC BY 4.0';
  licence.rel = 'noopener';
  places.append(licence, '. Country names are ISO 3166\'s. Places are found on this service, offline: no position leaves it.');
  main.append(what, places);
}

export { heading, notice };

// The gallery's shell: signing in and out, the routes (`#/`, `#/photo/ID`, `#/albums`,
// `#/album/LABEL`, `#/people`, `#/person/ID`, `#/places`, `#/place/NAME`, `#/about`,
// `#/search?q=...&from=...&to=...`), search with suggestions, and uploads by file picker or
// drag and drop.

import { ApiError, call, endSession, scheduleExpiry, session, signOut, startSession } from './api.js';
import { Grid } from './grid.js';
import { uploadAll } from './upload.js';
import * as viewer from './viewer.js';
import { about, albums, heading, notice, people, samePerson } from './views.js';
import { collectionHead, selectionBar } from './collections.js';
import { places } from './places.js';
import { dateRange, onThisDay, takenParams } from './moments.js';

const shell = document.getElementById('main');
const bar = document.getElementById('bar');
const signIn = document.getElementById('sign-in');
const signInNotice = document.getElementById('sign-in-notice');
const searchBox = document.getElementById('search-box');
const suggestions = document.getElementById('suggestions');

let grid = null;
let gridRoute = '#/';
let renderedRoute = null;
let known = { labels: [], persons: [], places: [] };

// ---- Signing in and out ----------------------------------------------------------------

function showSignIn(message) {
  bar.hidden = true;
  shell.replaceChildren();
  viewer.close();
  if (grid) grid.destroy();
  grid = null;
  renderedRoute = null;
  signIn.hidden = false;
  signInNotice.textContent = message || '';
  signIn.querySelector('input[name=user_name]').focus();
}

function formValues(form) {
  return Object.fromEntries([...new FormData(form)].filter(([, value]) => value !== ''));
}

document.getElementById('sign-in-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = event.target;
  try {
    startSession(await call('POST', 'sessions', formValues(form)));
    form.reset();
    document.getElementById('new-password-field').hidden = true;
    enter();
  } catch (error) {
    if (error.code === 'password_change_required') {
      const field = document.getElementById('new-password-field');
      field.hidden = false;
      field.querySelector('input').required = true;
      field.querySelector('input').focus();
      signInNotice.textContent = 'This password was given to you once: choose your own to go on.';
    } else {
      signInNotice.textContent = error.message;
    }
  }
});

document.getElementById('sign-up-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const values = formValues(event.target);
  try {
    await call('POST', 'users', values);
    startSession(await call('POST', 'sessions', { user_name: values.user_name, password: values.password }));
    event.target.reset();
    enter();
  } catch (error) {
    signInNotice.textContent = error.message;
  }
});

document.getElementById('sign-out').addEventListener('click', () => signOut());
window.addEventListener('session-ended', (event) => showSignIn(event.detail));

function enter() {
  signIn.hidden = true;
  bar.hidden = false;
  scheduleExpiry();
  refreshSuggestions();
  route();
}

// ---- Search with suggestions ------------------------------------------------------------

async function refreshSuggestions() {
  try {
    const [albumList, personList, placeList] = await Promise.all([call('GET', 'albums'), call('GET', 'persons?limit=100'), call('GET', 'places')]);
    const placeNames = placeList.countries.flatMap((country) => [country.country, ...country.cities.map((city) => city.city)]);
    known = {
      labels: albumList.items.map((album) => album.label),
      persons: personList.persons.filter((person) => person.name),
      places: [...new Set(placeNames)],
    };
  } catch {
    known = { labels: [], persons: [], places: [] };
  }
}

function terms(text) {
  return text.split(',').map((term) => term.trim()).filter(Boolean);
}

searchBox.addEventListener('input', () => {
  // Suggest completions of the last term, after the terms already typed.
  const typed = terms(searchBox.value);
  const last = searchBox.value.trim().endsWith(',') ? '' : (typed.pop() || '').toLowerCase();
  const before = typed.length ? `${typed.join(', ')}, ` : '';
  const names = [...known.persons.map((person) => person.name), ...known.labels, ...known.places];
  const options = names.filter((name) => name.toLowerCase().startsWith(last)).slice(0, 12).map((name) => {
    const option = document.createElement('option');
    option.value = before + name;
    return option;
  });
  suggestions.replaceChildren(...options);
});

document.getElementById('search').addEventListener('submit', (event) => {
  event.preventDefault();
  const query = terms(searchBox.value).join(', ');
  // The dates of the search shown stay with its new words.
  const shown = location.hash.startsWith('#/search?') ? new URLSearchParams(location.hash.split('?')[1]) : new URLSearchParams();
  if (query) location.hash = searchHref(query, shown.get('from') || '', shown.get('to') || '');
});

/** The API's query of a search: each term a person's name, a place or a label; and the dates. */
function searchQuery(text, from, to) {
  const params = takenParams(from, to);
  for (const term of terms(text)) {
    const person = known.persons.find((candidate) => candidate.name.toLowerCase() === term.toLowerCase());
    const place = known.places.find((candidate) => candidate.toLowerCase() === term.toLowerCase());
    if (person) params.append('person', person.id);
    else if (place) params.append('place', place);
    else params.append('label', term.toLowerCase());
  }
  return params.toString();
}

/** The gallery's route of a search. */
function searchHref(text, from, to) {
  const params = new URLSearchParams();
  if (text) params.set('q', text);
  if (from) params.set('from', from);
  if (to) params.set('to', to);
  return `#/search?${params}`;
}

// ---- Uploads ----------------------------------------------------------------------------

function accepted(item) {
  if (grid && gridRoute === '#/') grid.add(item, true);
}

const fileInput = document.getElementById('file-input');
document.getElementById('upload-button').addEventListener('click', () => fileInput.click());
fileInput.addEventListener('change', () => {
  uploadAll(fileInput.files, accepted).then(refreshSuggestions);
  fileInput.value = '';
});
const dropZone = document.getElementById('drop-zone');
window.addEventListener('dragover', (event) => {
  if (!session() || !event.dataTransfer.types.includes('Files')) return;
  event.preventDefault();
  dropZone.hidden = false;
});
dropZone.addEventListener('dragleave', () => { dropZone.hidden = true; });
window.addEventListener('drop', (event) => {
  if (!session()) return;
  event.preventDefault();
  dropZone.hidden = true;
  uploadAll(event.dataTransfer.files, accepted).then(refreshSuggestions);
});

// ---- Routes -----------------------------------------------------------------------------

/** A grid of photos in `main`; of the user's own (`selectable`), with the selection bar that
 * adds the picked photos to a collection. Nothing once `main` is no longer shown (the route
 * changed while its page loaded). */
function showGrid(main, title, load, empty, selectable = true) {
  if (!main.isConnected) return;
  if (title) main.append(heading(title));
  const bar = selectable ? selectionBar(() => grid) : null;
  grid = new Grid(main, load, (id, ids) => {
    location.hash = `#/photo/${encodeURIComponent(id)}`;
    openPhoto(id, ids);
  }, empty, bar && bar.show);
  grid.more();
}

function page(path, cursor) {
  const separator = path.includes('?') ? '&' : '?';
  return call('GET', cursor ? `${path}${separator}limit=50&cursor=${encodeURIComponent(cursor)}` : `${path}${separator}limit=50`);
}

function openPhoto(id, ids) {
  viewer.open(id, ids, () => {
    if (location.hash.startsWith('#/photo/')) history.replaceState(null, '', gridRoute);
  }, (deleted) => grid && grid.remove(deleted));
}

async function render(hash) {
  const [path, query] = hash.slice(1).split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  if (grid) grid.destroy();
  grid = null;
  // Each render has its own container: a page still loading when the route changes fills a
  // container no longer shown, never the next page's.
  const main = document.createElement('div');
  shell.replaceChildren(main);
  document.querySelectorAll('[data-nav]').forEach((link) => link.removeAttribute('aria-current'));
  if (parts[0] !== 'search') searchBox.value = '';
  const current = {
    albums: 'albums', album: 'albums', collection: 'albums', people: 'people', person: 'people', favourites: 'favourites',
    places: 'places', place: 'places', about: 'about',
  }[parts[0]] || (parts[0] ? '' : 'library');
  const navLink = document.querySelector(`[data-nav="${current}"]`);
  if (navLink) navLink.setAttribute('aria-current', 'page');
  try {
    switch (parts[0]) {
      case undefined: {
        main.append(dateRange('', '', (from, to) => { if (from || to) location.hash = searchHref('', from, to); }));
        showGrid(main, null, (cursor) => page('images', cursor), 'No photos yet: upload some with the Upload button, or drop them here.');
        return await onThisDay(main, main.firstChild);
      }
      case 'places':
        return await places(main);
      case 'place': {
        const within = new URLSearchParams(query || '').get('in');
        const params = new URLSearchParams([['place', parts[1]], ...(within ? [['place', within]] : [])]);
        return showGrid(main, within ? `${parts[1]}, ${within}` : parts[1], (cursor) => page(`images/search?${params}`, cursor),
          'No photos were taken there.');
      }
      case 'about':
        return about(main);
      case 'favourites':
        return showGrid(main, 'Favourites', (cursor) => page('images?favourite=true', cursor),
          'No favourites yet: open a photo and press Favourite.');
      case 'albums':
        return await albums(main);
      case 'collection': {
        await collectionHead(main, parts[1]);
        return showGrid(main, null, (cursor) => page(`collections/${encodeURIComponent(parts[1])}/photos`, cursor),
          'No photos in it yet: select photos in the library and add them.', false);
      }
      case 'album':
        return showGrid(main, parts[1], (cursor) => page(`albums/${encodeURIComponent(parts[1])}`, cursor), 'This album is empty.');
      case 'people':
        return await people(main, () => render(location.hash));
      case 'person': {
        const person = await call('GET', `persons/${encodeURIComponent(parts[1])}`);
        main.append(heading(person.name || 'Unnamed person'));
        await samePerson(main, person, () => render(location.hash));
        return showGrid(main, null, (cursor) => page(`persons/${encodeURIComponent(parts[1])}/images`, cursor), 'No photos.');
      }
      case 'search': {
        const asked = new URLSearchParams(query || '');
        const [text, from, to] = [asked.get('q') || '', asked.get('from') || '', asked.get('to') || ''];
        searchBox.value = text;
        const dates = from || to ? `taken ${from ? `from ${from}` : ''}${from && to ? ' ' : ''}${to ? `to ${to}` : ''}` : '';
        main.append(heading(text ? `Photos with ${text}${dates ? `, ${dates}` : ''}` : `Photos ${dates}`));
        main.append(dateRange(from, to, (newFrom, newTo) => {
          if (text || newFrom || newTo) location.hash = searchHref(text, newFrom, newTo);
          else location.hash = '#/';
        }));
        if (!text && !from && !to) return main.append(notice('Type what to look for, or pick dates.'));
        const terms = searchQuery(text, from, to);
        return showGrid(main, null, (cursor) => page(`images/search?${terms}`, cursor), 'No photos match.');
      }
      default:
        main.append(notice('There is no such page.'));
    }
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 401) main.append(notice(error.message));
  }
}

function route() {
  if (!session()) return showSignIn();
  const hash = location.hash || '#/';
  if (hash.startsWith('#/photo/')) {
    const id = decodeURIComponent(hash.slice('#/photo/'.length));
    if (renderedRoute === null) {
      // Opened directly: the library behind it.
      gridRoute = '#/';
      renderedRoute = '#/';
      render('#/');
    }
    if (!viewer.isOpen()) openPhoto(id, grid ? grid.ids() : [id]);
    return;
  }
  viewer.close();
  if (hash === renderedRoute) return;
  renderedRoute = hash;
  gridRoute = hash;
  render(hash);
}

window.addEventListener('hashchange', route);
if (session()) enter(); else showSignIn();

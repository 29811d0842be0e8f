// The gallery's shell: signing in and out, the routes (`#/`, `#/photo/ID`, `#/albums`,
// `#/album/LABEL`, `#/people`, `#/person/ID`, `#/search?q=...`), search with suggestions,
// and uploads by file picker or drag and drop.

import { ApiError, call, endSession, scheduleExpiry, session, signOut, startSession } from './api.js';
import { Grid } from './grid.js';
import { uploadAll } from './upload.js';
import * as viewer from './viewer.js';
import { albums, heading, notice, people, samePerson } from './views.js';
import { collectionHead, selectionBar } from './collections.js';

const main = document.getElementById('main');
const bar = document.getElementById('bar');
const signIn = document.getElementById('sign-in');
const signInNotice = document.getElementById('sign-in-notice');
const searchBox = document.getElementById('search-box');
const suggestions = document.getElementById('suggestions');

let grid = null;
let gridRoute = '#/';
let renderedRoute = null;
let known = { labels: [], persons: [] };

// ---- Signing in and out ----------------------------------------------------------------

function showSignIn(message) {
  bar.hidden = true;
  main.replaceChildren();
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
    const [albumList, personList] = await Promise.all([call('GET', 'albums'), call('GET', 'persons?limit=100')]);
    known = { labels: albumList.items.map((album) => album.label), persons: personList.persons.filter((person) => person.name) };
  } catch {
    known = { labels: [], persons: [] };
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
  const names = [...known.persons.map((person) => person.name), ...known.labels];
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
  if (query) location.hash = `#/search?q=${encodeURIComponent(query)}`;
});

function searchQuery(text) {
  const params = new URLSearchParams();
  for (const term of terms(text)) {
    const person = known.persons.find((candidate) => candidate.name.toLowerCase() === term.toLowerCase());
    if (person) params.append('person', person.id);
    else params.append('label', term.toLowerCase());
  }
  return params.toString();
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

/** A grid of photos; of the user's own (`selectable`), with the selection bar that adds the
 * picked photos to a collection. */
function showGrid(title, load, empty, selectable = true) {
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
  main.replaceChildren();
  document.querySelectorAll('[data-nav]').forEach((link) => link.removeAttribute('aria-current'));
  if (parts[0] !== 'search') searchBox.value = '';
  const current = { albums: 'albums', album: 'albums', collection: 'albums', people: 'people', person: 'people', favourites: 'favourites' }[parts[0]]
    || (parts[0] ? '' : 'library');
  const navLink = document.querySelector(`[data-nav="${current}"]`);
  if (navLink) navLink.setAttribute('aria-current', 'page');
  try {
    switch (parts[0]) {
      case undefined:
        return showGrid(null, (cursor) => page('images', cursor), 'No photos yet: upload some with the Upload button, or drop them here.');
      case 'favourites':
        return showGrid('Favourites', (cursor) => page('images?favourite=true', cursor),
          'No favourites yet: open a photo and press Favourite.');
      case 'albums':
        return await albums(main);
      case 'collection': {
        await collectionHead(main, parts[1]);
        return showGrid(null, (cursor) => page(`collections/${encodeURIComponent(parts[1])}/photos`, cursor),
          'No photos in it yet: select photos in the library and add them.', false);
      }
      case 'album':
        return showGrid(parts[1], (cursor) => page(`albums/${encodeURIComponent(parts[1])}`, cursor), 'This album is empty.');
      case 'people':
        return await people(main, () => render(location.hash));
      case 'person': {
        const person = await call('GET', `persons/${encodeURIComponent(parts[1])}`);
        main.append(heading(person.name || 'Unnamed person'));
        await samePerson(main, person, () => render(location.hash));
        return showGrid(null, (cursor) => page(`persons/${encodeURIComponent(parts[1])}/images`, cursor), 'No photos.');
      }
      case 'search': {
        const text = new URLSearchParams(query || '').get('q') || '';
        searchBox.value = text;
        const terms = searchQuery(text);
        return showGrid(`Photos with ${text}`, (cursor) => page(`images/search?${terms}`, cursor), 'No photos match.');
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

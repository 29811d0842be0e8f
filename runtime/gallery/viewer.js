// The photo view: the preview large, ←/→ between the photos of the grid it was opened from,
// Esc back to that grid (which stays where it was scrolled), labels linking to their albums,
// faces drawn as boxes with their person's name (click one to name it or move it to another
// person), date taken, size, a favourite toggle, and deletion with confirmation.

import { call } from './api.js';
import { addableCollections } from './collections.js';
import { placeHref } from './places.js';

const root = document.getElementById('viewer');
const image = root.querySelector('.frame img');
const frame = root.querySelector('.frame');
const facts = root.querySelector('dl');
const labels = root.querySelector('.labels');
const people = root.querySelector('.people');
const peopleHeading = root.querySelector('.faces-heading');
const title = root.querySelector('.title');
const favourite = root.querySelector('.favourite');
const addTo = root.querySelector('.add-to');

let state = { id: null, ids: [], onClose: null, onDelete: null, persons: new Map() };

function bytes(size) {
  if (size >= 1e6) return `${(size / 1e6).toFixed(1)} MB`;
  if (size >= 1e3) return `${Math.round(size / 1e3)} kB`;
  return `${size} bytes`;
}

/** Where the photo was taken: city, region and country, opening the city's photos. */
function placeFact(place) {
  const term = document.createElement('dt');
  term.textContent = 'Place';
  const detail = document.createElement('dd');
  const link = document.createElement('a');
  link.className = 'place';
  link.href = placeHref(place.city, place.country);
  link.textContent = [place.city, place.region !== place.city ? place.region : '', place.country].filter(Boolean).join(', ');
  detail.append(link);
  facts.append(term, detail);
}

function fact(name, value) {
  if (!value) return;
  const term = document.createElement('dt');
  term.textContent = name;
  const detail = document.createElement('dd');
  detail.textContent = value;
  facts.append(term, detail);
}

async function loadPersons() {
  try {
    const listed = await call('GET', 'persons?limit=100');
    state.persons = new Map(listed.persons.map((person) => [person.id, person]));
  } catch {
    state.persons = new Map();
  }
}

function personName(id) {
  const person = id && state.persons.get(id);
  return person && person.name ? person.name : 'Unnamed';
}

function showFavourite(marked) {
  favourite.setAttribute('aria-pressed', String(marked));
  favourite.textContent = marked ? '\u2605 Favourite' : '\u2606 Favourite';
}

/** Names the face's person; a name another person has moves the face to that person. */
async function nameFace(face) {
  const current = face.person_id ? state.persons.get(face.person_id) : null;
  const name = window.prompt('Who is this?', current && current.name ? current.name : '');
  if (name === null || !name.trim()) return;
  try {
    if (face.person_id) {
      await call('PATCH', `persons/${encodeURIComponent(face.person_id)}`, { name: name.trim() });
    } else {
      const moved = await call('PUT', `faces/${encodeURIComponent(face.id)}`, { person_id: null });
      await call('PATCH', `persons/${encodeURIComponent(moved.person_id)}`, { name: name.trim() });
    }
  } catch (error) {
    if (error.code !== 'name_taken') return window.alert(error.message);
    const other = [...state.persons.values()].find((person) => person.name === name.trim());
    const target = error.person_id || (other && other.id);
    if (target) await call('PUT', `faces/${encodeURIComponent(face.id)}`, { person_id: target });
  }
  await show(state.id);
}

async function show(id) {
  state.id = id;
  root.hidden = false;
  document.body.classList.add('viewing');
  facts.replaceChildren();
  labels.replaceChildren();
  people.replaceChildren();
  frame.querySelectorAll('.face').forEach((box) => box.remove());
  image.removeAttribute('src');
  title.textContent = 'Loading…';
  favourite.hidden = true;
  let photo;
  try {
    [photo] = await Promise.all([call('GET', `images/${encodeURIComponent(id)}`), loadPersons()]);
  } catch (error) {
    title.textContent = error.message;
    return;
  }
  if (state.id !== id) return;
  title.textContent = photo.labels.length ? photo.labels.slice(0, 3).map((l) => l.name).join(', ') : 'Photo';
  frame.style.backgroundColor = photo.color || '';
  image.alt = title.textContent;
  image.src = photo.preview_url || photo.download_url || '';
  favourite.hidden = false;
  showFavourite(photo.favourite);
  addableCollections(addTo).catch(() => { addTo.hidden = true; });
  fact('Taken', photo.taken_at && photo.taken_at.replace('T', ' '));
  if (photo.place) placeFact(photo.place);
  fact('Uploaded', new Date(photo.created_at).toLocaleString());
  fact('Size', `${bytes(photo.size)}${photo.width ? `, ${photo.width} × ${photo.height}` : ''}`);
  fact('Status', photo.status === 'ready' ? '' : photo.status === 'pending' ? 'Being analysed' : `Not analysed: ${photo.failure_reason || ''}`);
  for (const found of photo.labels) {
    const item = document.createElement('li');
    const link = document.createElement('a');
    link.href = `#/album/${encodeURIComponent(found.name)}`;
    link.textContent = found.name;
    item.append(link);
    labels.append(item);
  }
  peopleHeading.hidden = photo.faces.length === 0;
  for (const face of photo.faces) {
    const box = document.createElement('button');
    box.type = 'button';
    box.className = 'face';
    box.style.left = `${face.box.left * 100}%`;
    box.style.top = `${face.box.top * 100}%`;
    box.style.width = `${face.box.width * 100}%`;
    box.style.height = `${face.box.height * 100}%`;
    const tag = document.createElement('span');
    tag.textContent = personName(face.person_id);
    box.append(tag);
    box.setAttribute('aria-label', `Face: ${personName(face.person_id)}. Name it`);
    box.addEventListener('click', () => nameFace(face));
    frame.append(box);
    const item = document.createElement('li');
    const link = document.createElement('a');
    link.textContent = personName(face.person_id);
    if (face.person_id) link.href = `#/person/${encodeURIComponent(face.person_id)}`;
    item.append(link);
    people.append(item);
  }
  root.querySelector('.prev').disabled = state.ids.indexOf(id) <= 0;
  root.querySelector('.next').disabled = state.ids.indexOf(id) >= state.ids.length - 1;
  root.querySelector('.close').focus();
}

function step(by) {
  const at = state.ids.indexOf(state.id) + by;
  if (at >= 0 && at < state.ids.length) show(state.ids[at]);
}

export function close() {
  if (root.hidden) return;
  root.hidden = true;
  document.body.classList.remove('viewing');
  image.removeAttribute('src');
  if (state.onClose) state.onClose(state.id);
}

/** Shows photo `id` of `ids`; `onDelete(id)` after a deletion, `onClose(id)` when it closes. */
export function open(id, ids, onClose, onDelete) {
  state = { ...state, ids: ids.length ? ids : [id], onClose, onDelete };
  show(id);
}

export function isOpen() {
  return !root.hidden;
}

root.querySelector('.prev').addEventListener('click', () => step(-1));
root.querySelector('.next').addEventListener('click', () => step(1));
root.querySelector('.close').addEventListener('click', close);
addTo.addEventListener('change', async () => {
  const collection = addTo.value;
  if (!collection) return;
  try {
    await call('POST', `collections/${encodeURIComponent(collection)}/photos`, { ids: [state.id] });
    addTo.selectedOptions[0].textContent += ' \u2713';
  } catch (error) {
    window.alert(error.message);
  }
  addTo.value = '';
});
favourite.addEventListener('click', async () => {
  const marked = favourite.getAttribute('aria-pressed') !== 'true';
  try {
    await call(marked ? 'PUT' : 'DELETE', `images/${encodeURIComponent(state.id)}/favourite`);
  } catch (error) {
    return window.alert(error.message);
  }
  showFavourite(marked);
});
root.querySelector('.delete').addEventListener('click', async () => {
  if (!window.confirm('Delete this photo for good?')) return;
  const id = state.id;
  try {
    await call('DELETE', `images/${encodeURIComponent(id)}`);
  } catch (error) {
    return window.alert(error.message);
  }
  const at = state.ids.indexOf(id);
  state.ids = state.ids.filter((other) => other !== id);
  if (state.onDelete) state.onDelete(id);
  if (state.ids.length) show(state.ids[Math.min(at, state.ids.length - 1)]);
  else close();
});
document.addEventListener('keydown', (event) => {
  if (root.hidden || event.target.matches('input, textarea')) return;
  if (event.key === 'ArrowLeft') step(-1);
  else if (event.key === 'ArrowRight') step(1);
  else if (event.key === 'Escape') close();
});

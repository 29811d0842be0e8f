// The page a link opens (`/shared/<secret>`), for anyone, no account: the collection's title,
// its photos in the justified grid, a photo view (preview, date, labels; faces and text where
// the owner shows them; the original where the link allows it). A link with a password asks for
// it first; the token that answer gives lives in this page only (never stored, never in a URL).
// It shows nothing else: no other link, collection or photo of the owner's.

import { Grid } from './grid.js';
import { photoCount } from './words.js';

const secret = location.pathname.split('/').filter(Boolean).pop() || '';
const base = new URL(`${encodeURIComponent(secret)}/`, document.baseURI);
const main = document.getElementById('main');
const title = document.getElementById('shared-title');
const about = document.getElementById('shared-about');
const passwordForm = document.getElementById('link-password');
const viewer = document.getElementById('shared-viewer');
let token = null;
const photos = new Map();
let shown = { id: null, ids: [] };

class LinkError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function request(method, path, body) {
  const headers = token ? { authorization: `Bearer ${token}` } : {};
  const init = { method, headers };
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const response = await fetch(new URL(path, base), init);
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const error = (data && data.error) || {};
    throw new LinkError(response.status, error.code || `http_${response.status}`, error.message || response.statusText);
  }
  return data;
}

function refusal(error) {
  if (error.status === 410) return 'This link has expired. Ask whoever shared it for a new one.';
  if (error.status === 404) return 'This link does not open anything: it was deleted, or the address is not complete.';
  return error.message;
}

function describe(collection) {
  title.textContent = collection.title;
  const count = photoCount(collection.photo_count);
  const until = collection.expires_at ? `, until ${new Date(collection.expires_at).toLocaleDateString()}` : '';
  about.textContent = `${count}, shared by ${collection.owner}${until}.`;
  if (collection.description) {
    const text = document.createElement('p');
    text.textContent = collection.description;
    about.after(text);
  }
}

async function page(cursor) {
  const query = cursor ? `?cursor=${encodeURIComponent(cursor)}` : '';
  const answer = await request('GET', `photos${query}`);
  answer.items.forEach((item) => photos.set(item.id, item));
  return answer;
}

async function start() {
  let first;
  try {
    first = await page();
  } catch (error) {
    if (error.status === 401) {
      title.textContent = 'Shared photos';
      passwordForm.hidden = false;
      passwordForm.elements.password.focus();
      return;
    }
    title.textContent = 'Nothing to show';
    about.textContent = refusal(error);
    return;
  }
  passwordForm.hidden = true;
  describe(first.collection);
  let pending = first;
  const grid = new Grid(main, async (cursor) => {
    if (pending) {
      const answer = pending;
      pending = null;
      return answer;
    }
    return page(cursor);
  }, open, 'No photos in it yet.');
  grid.more();
}

passwordForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  const note = passwordForm.querySelector('[role=alert]');
  note.textContent = '';
  try {
    const session = await request('POST', 'sessions', { password: passwordForm.elements.password.value });
    token = session.token;
    passwordForm.reset();
    await start();
  } catch (error) {
    note.textContent = error.status === 401 ? 'That is not the password.' : refusal(error);
  }
});

function fact(list, name, value) {
  if (!value) return;
  const term = document.createElement('dt');
  term.textContent = name;
  const detail = document.createElement('dd');
  detail.textContent = value;
  list.append(term, detail);
}

function open(id, ids) {
  const photo = photos.get(id);
  if (!photo) return;
  shown = { id, ids };
  const image = viewer.querySelector('.frame img');
  const frame = viewer.querySelector('.frame');
  frame.querySelectorAll('.face').forEach((face) => face.remove());
  image.src = photo.preview_url || photo.thumbnail_url || '';
  image.alt = photo.labels.slice(0, 3).join(', ');
  const facts = viewer.querySelector('dl');
  facts.replaceChildren();
  fact(facts, 'Taken', photo.taken_at);
  fact(facts, 'Added', new Date(photo.created_at).toLocaleString());
  if (photo.text && photo.text.length) fact(facts, 'Text', photo.text.join(' / '));
  const labels = viewer.querySelector('.labels');
  labels.replaceChildren(...photo.labels.map((name) => {
    const item = document.createElement('li');
    item.textContent = name;
    return item;
  }));
  for (const face of photo.faces || []) {
    const box = document.createElement('span');
    box.className = 'face';
    box.style.left = `${face.box.left * 100}%`;
    box.style.top = `${face.box.top * 100}%`;
    box.style.width = `${face.box.width * 100}%`;
    box.style.height = `${face.box.height * 100}%`;
    if (face.name) {
      const name = document.createElement('span');
      name.textContent = face.name;
      box.append(name);
    }
    frame.append(box);
  }
  const download = viewer.querySelector('.download');
  download.hidden = !photo.download_url;
  if (photo.download_url) download.href = photo.download_url;
  viewer.hidden = false;
  document.body.classList.add('viewing');
  viewer.querySelector('.close').focus();
}

function step(by) {
  const at = shown.ids.indexOf(shown.id) + by;
  if (at >= 0 && at < shown.ids.length) open(shown.ids[at], shown.ids);
}

function close() {
  viewer.hidden = true;
  document.body.classList.remove('viewing');
}

viewer.querySelector('.close').addEventListener('click', close);
viewer.querySelector('.prev').addEventListener('click', () => step(-1));
viewer.querySelector('.next').addEventListener('click', () => step(1));
document.addEventListener('keydown', (event) => {
  if (viewer.hidden) return;
  if (event.key === 'Escape') close();
  if (event.key === 'ArrowLeft') step(-1);
  if (event.key === 'ArrowRight') step(1);
});

start();

// Uploads: many files at once, each with its progress and, when refused, why in plain words.
// Photos up to 5 MB go in the request body; larger ones straight to the bucket with a
// presigned PUT (API Gateway and Lambda cap request bodies at 6 MB), then are confirmed.

import { call, send, url } from './api.js';

const IN_BODY_MAX = 5 * 1024 * 1024;
const AT_ONCE = 3;
const TYPES = ['image/jpeg', 'image/png', 'image/webp'];

const panel = document.getElementById('uploads');
const list = panel.querySelector('ul');
panel.querySelector('.close-uploads').addEventListener('click', () => { panel.hidden = true; });

function row(file) {
  const item = document.createElement('li');
  const name = document.createElement('span');
  name.className = 'name';
  name.textContent = file.name;
  const bar = document.createElement('progress');
  bar.max = 1;
  bar.value = 0;
  const status = document.createElement('span');
  status.className = 'status';
  status.textContent = 'Waiting';
  item.append(name, bar, status);
  list.prepend(item);
  return {
    progress(share) { bar.value = share; status.textContent = `${Math.round(share * 100)}%`; },
    done(text) { bar.value = 1; item.dataset.state = 'done'; status.textContent = text; },
    failed(text) { item.dataset.state = 'failed'; bar.hidden = true; status.textContent = text; },
  };
}

async function upload(file, shown) {
  if (!TYPES.includes(file.type)) throw new Error('This is not a photo: choose JPEG, PNG or WebP files.');
  if (file.size <= IN_BODY_MAX) {
    return send('POST', url('images'), file, { 'content-type': file.type }, shown.progress);
  }
  const ticket = await call('POST', 'images/uploads', { content_type: file.type, size: file.size });
  await send(ticket.method, ticket.upload_url, file, ticket.headers, shown.progress, false);
  return call('POST', `images/${encodeURIComponent(ticket.id)}/complete`);
}

/** Uploads `files`; `accepted(item)` for each accepted photo (pending analysis). */
export async function uploadAll(files, accepted) {
  panel.hidden = false;
  const queue = [...files].map((file) => ({ file, shown: row(file) }));
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      try {
        const answer = await upload(next.file, next.shown);
        next.shown.done('Uploaded, being analysed');
        accepted({ id: answer.id, status: answer.status, labels: [] });
      } catch (error) {
        next.shown.failed(error.message);
      }
    }
  };
  await Promise.all(Array.from({ length: AT_ONCE }, worker));
}

// A justified grid of thumbnails, newest first: rows of equal height whose photos keep their
// shape (flex-grow by aspect ratio), a placeholder colour while each loads, endless scrolling
// by the API's cursor, and photos still being analysed marked and updated when ready.

import { call } from './api.js';

const POLL_MS = 2000;

function ratio(item) {
  return item.width && item.height ? Math.min(Math.max(item.width / item.height, 0.4), 3) : 1;
}

function label(status) {
  if (status === 'pending') return 'Analysing…';
  if (status === 'failed') return 'Could not be read';
  return '';
}

export class Grid {
  /** `load(cursor)` returns a page `{items, next_cursor}`; `open(id, ids)` shows a photo. */
  constructor(container, load, open, empty) {
    this.container = container;
    this.load = load;
    this.open = open;
    this.empty = empty;
    this.tiles = new Map();
    this.cursor = undefined;
    this.done = false;
    this.loading = false;
    this.element = document.createElement('div');
    this.element.className = 'grid';
    this.filler = document.createElement('span');
    this.filler.className = 'filler';
    this.element.append(this.filler);
    this.sentinel = document.createElement('div');
    this.sentinel.className = 'sentinel';
    this.status = document.createElement('p');
    this.status.className = 'notice';
    container.append(this.element, this.status, this.sentinel);
    this.observer = new IntersectionObserver((entries) => entries.some((e) => e.isIntersecting) && this.more(), { rootMargin: '800px' });
    this.observer.observe(this.sentinel);
    this.poller = setInterval(() => this.refreshPending(), POLL_MS);
  }

  /** The photos in the order shown. */
  ids() {
    return [...this.element.querySelectorAll('.tile')].map((tile) => tile.dataset.id);
  }

  destroy() {
    this.observer.disconnect();
    clearInterval(this.poller);
  }

  async more() {
    if (this.loading || this.done) return;
    this.loading = true;
    try {
      const page = await this.load(this.cursor);
      page.items.forEach((item) => this.add(item, false));
      this.cursor = page.next_cursor || undefined;
      this.done = !page.next_cursor;
      this.status.textContent = this.tiles.size === 0 && this.done ? this.empty : '';
    } catch (error) {
      this.status.textContent = error.message;
      this.done = true;
    } finally {
      this.loading = false;
    }
    // A short first page may not reach the sentinel: keep loading while it is in view.
    if (!this.done && this.sentinel.getBoundingClientRect().top < window.innerHeight + 800) this.more();
  }

  /** Adds a photo (at the start for a new upload). */
  add(item, first) {
    if (this.tiles.has(item.id)) return this.update(item);
    const tile = document.createElement('a');
    tile.className = 'tile';
    tile.href = `#/photo/${encodeURIComponent(item.id)}`;
    tile.dataset.id = item.id;
    tile.addEventListener('click', (event) => {
      event.preventDefault();
      this.open(item.id, this.ids());
    });
    const pad = document.createElement('i');
    const badge = document.createElement('span');
    badge.className = 'badge';
    const image = document.createElement('img');
    image.loading = 'lazy';
    image.decoding = 'async';
    image.alt = '';
    tile.append(pad, image, badge);
    this.tiles.set(item.id, tile);
    if (first) {
      this.element.prepend(tile);
    } else {
      this.element.insertBefore(tile, this.filler);
    }
    this.update(item);
    this.status.textContent = '';
  }

  update(item) {
    const tile = this.tiles.get(item.id);
    if (!tile) return;
    // The stylesheet lays the tile out from its shape (rows are lower on phones).
    tile.style.setProperty('--r', String(ratio(item)));
    if (item.color) tile.style.backgroundColor = item.color;
    tile.dataset.status = item.status;
    const badge = tile.querySelector('.badge');
    badge.textContent = label(item.status);
    const image = tile.querySelector('img');
    image.alt = (item.labels || []).map((l) => (typeof l === 'string' ? l : l.name)).slice(0, 3).join(', ');
    if (item.thumbnail_url && image.dataset.src !== item.id) {
      image.dataset.src = item.id;
      image.addEventListener('load', () => tile.classList.add('loaded'), { once: true });
      image.src = item.thumbnail_url;
    }
  }

  remove(id) {
    const tile = this.tiles.get(id);
    if (tile) tile.remove();
    this.tiles.delete(id);
    if (this.tiles.size === 0 && this.done) this.status.textContent = this.empty;
  }

  async refreshPending() {
    const pending = [...this.tiles.values()].filter((tile) => tile.dataset.status === 'pending').slice(0, 10);
    for (const tile of pending) {
      try {
        const image = await call('GET', `images/${encodeURIComponent(tile.dataset.id)}`);
        if (image.status !== 'pending') this.update(image);
      } catch (error) {
        if (error.status === 404) this.remove(tile.dataset.id);
      }
    }
  }
}

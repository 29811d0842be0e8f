// A justified grid of thumbnails, newest first: rows of equal height whose photos keep their
// shape (flex-grow by aspect ratio), a placeholder colour while each loads, endless scrolling
// by the API's cursor, and photos still being analysed marked and updated when ready.
// Selection: the tick on a tile, Ctrl/⌘-click, or Space on a focused tile picks it; Shift with
// any of them picks every photo from the last one picked; while any is picked, a click picks
// too; Esc drops the selection. `onSelection(ids)` hears every change.

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
  constructor(container, load, open, empty, onSelection = null) {
    this.container = container;
    this.onSelection = onSelection;
    this.selected = new Set();
    this.anchor = null;
    this.escape = (event) => {
      if (event.key === 'Escape' && this.selected.size && !document.body.classList.contains('viewing')) this.clearSelection();
    };
    if (onSelection) document.addEventListener('keydown', this.escape);
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
    document.removeEventListener('keydown', this.escape);
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
      const picking = event.shiftKey || event.ctrlKey || event.metaKey || this.selected.size || event.target.closest('.pick');
      if (this.onSelection && picking) return this.pick(item.id, event.shiftKey);
      this.open(item.id, this.ids());
    });
    tile.addEventListener('keydown', (event) => {
      if (!this.onSelection || event.key !== ' ') return;
      event.preventDefault();
      this.pick(item.id, event.shiftKey);
    });
    const pad = document.createElement('i');
    const badge = document.createElement('span');
    badge.className = 'badge';
    if (this.onSelection) {
      const tick = document.createElement('span');
      tick.className = 'pick';
      tick.title = 'Select (or press Space)';
      tick.textContent = '\u2713';
      tile.append(tick);
    }
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

  /** Picks photo `id` (or drops it); with `range`, every photo from the last one picked. */
  pick(id, range) {
    const ids = this.ids();
    if (range && this.anchor && ids.includes(this.anchor)) {
      const [from, to] = [ids.indexOf(this.anchor), ids.indexOf(id)].sort((a, b) => a - b);
      ids.slice(from, to + 1).forEach((one) => this.mark(one, true));
    } else {
      this.mark(id, !this.selected.has(id));
    }
    this.anchor = id;
    this.onSelection([...this.selected]);
  }

  mark(id, picked) {
    const tile = this.tiles.get(id);
    if (!tile) return;
    if (picked) this.selected.add(id); else this.selected.delete(id);
    tile.classList.toggle('selected', picked);
    tile.setAttribute('aria-label', picked ? `${tile.querySelector('img').alt || 'Photo'} (selected)` : tile.querySelector('img').alt || 'Photo');
  }

  clearSelection() {
    [...this.selected].forEach((id) => this.mark(id, false));
    this.anchor = null;
    if (this.onSelection) this.onSelection([]);
  }

  remove(id) {
    this.mark(id, false);
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

// Collections in the gallery: the user's own and those shared with them (on the albums page,
// above the label albums, "Things"), making one, a collection's page (its photos; for its
// owner: the share dialog, with members and links, and deletion), and adding the photo in view
// to one. Every title and name is set as text, never as markup.

import { call } from './api.js';
import { photoCount } from './words.js';

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A one-field form: `submit(value)` on submission, its error shown; the field emptied after. */
function textForm(className, name, placeholder, label, button, submit) {
  const form = element('form', className);
  const field = element('input');
  field.name = name;
  field.required = true;
  field.maxLength = 100;
  field.placeholder = placeholder;
  field.setAttribute('aria-label', label);
  const send = element('button', '', button);
  send.type = 'submit';
  form.append(field, send);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      await submit(field.value.trim());
      field.value = '';
    } catch (error) {
      window.alert(error.message);
    }
  });
  return form;
}

function card(collection) {
  const item = element('li');
  const link = element('a');
  link.href = `#/collection/${encodeURIComponent(collection.id)}`;
  const cover = element('img');
  cover.loading = 'lazy';
  cover.alt = '';
  if (collection.cover_thumbnail_url) cover.src = collection.cover_thumbnail_url;
  const count = photoCount(collection.photo_count);
  link.append(cover, element('strong', '', collection.title),
    element('span', '', collection.role === 'owner' ? count : `${count}, from ${collection.owner}`));
  item.append(link);
  return item;
}

/** The two sections of collections on the albums page, and the form that makes one. */
export async function collectionSections(main) {
  const listed = await call('GET', 'collections');
  const mine = listed.items.filter((collection) => collection.role === 'owner');
  const shared = listed.items.filter((collection) => collection.role !== 'owner');
  main.append(element('h2', '', 'Your collections'));
  main.append(textForm('tools new-collection', 'title', 'A new collection: its title', 'Title of a new collection', 'Make it',
    async (title) => {
      const made = await call('POST', 'collections', { title });
      location.hash = `#/collection/${encodeURIComponent(made.id)}`;
    }));
  if (mine.length) {
    const cards = element('ul', 'cards');
    mine.forEach((collection) => cards.append(card(collection)));
    main.append(cards);
  } else {
    main.append(element('p', 'notice', 'None yet: make one, then add photos from the photo view.'));
  }
  if (shared.length) {
    main.append(element('h2', '', 'Shared with you'));
    const cards = element('ul', 'cards');
    shared.forEach((collection) => cards.append(card(collection)));
    main.append(cards);
  }
}

/** A collection's head: title, description, and for its owner the sharing and deletion. */
export async function collectionHead(main, id) {
  const collection = await call('GET', `collections/${encodeURIComponent(id)}`);
  main.append(element('h1', '', collection.title));
  if (collection.description) main.append(element('p', '', collection.description));
  if (collection.role === 'contributor') {
    main.append(element('p', 'notice', `Shared with you by ${collection.owner}: add photos of yours from your library (they stay yours).`));
    return collection;
  }
  if (collection.role !== 'owner') {
    main.append(element('p', 'notice', `Shared with you by ${collection.owner}.`));
    return collection;
  }
  const tools = element('div', 'tools sharing');
  const share = element('button', '', 'Share…');
  share.type = 'button';
  const dialog = shareDialog(id);
  share.addEventListener('click', () => dialog.open());
  const remove = element('button', 'danger', 'Delete this collection');
  remove.type = 'button';
  remove.addEventListener('click', async () => {
    if (!window.confirm('Delete this collection? Its photos stay in your library; its members and links lose it.')) return;
    await call('DELETE', `collections/${encodeURIComponent(id)}`);
    location.hash = '#/albums';
  });
  tools.append(share, remove);
  main.append(tools, dialog.element);
  return collection;
}

/** Fills `list` from `source` (a GET answering `{items}`): each entry as `describe` says, with a
 * button `action` that DELETEs `target(entry)` and fills the list again. */
async function fillList(list, source, empty, describe, action, target) {
  const listed = await call('GET', source);
  list.replaceChildren();
  if (!listed.items.length) list.append(element('li', 'notice', empty));
  for (const entry of listed.items) {
    const item = element('li', '', `${describe(entry)} `);
    const button = element('button', 'quiet', action);
    button.type = 'button';
    button.addEventListener('click', async () => {
      await call('DELETE', target(entry));
      await fillList(list, source, empty, describe, action, target);
    });
    item.append(button);
    list.append(item);
  }
}

function when(iso) {
  return new Date(iso).toLocaleDateString();
}

/** The share dialog of collection `id`: its members (share by user name, remove) and its links
 * (make one with an expiry, a password and downloads or not; copy its URL, shown once; revoke). */
function shareDialog(id) {
  const path = `collections/${encodeURIComponent(id)}`;
  const dialog = element('dialog', 'share-dialog');
  dialog.setAttribute('aria-label', 'Share this collection');
  const close = element('button', 'quiet', 'Done');
  close.type = 'button';
  close.addEventListener('click', () => dialog.close());

  const members = element('ul', 'members');
  const showMembers = () => fillList(members, `${path}/members`, 'Nobody yet.', (member) => `${member.user_name} (${member.role})`,
    'Remove', (member) => `${path}/members/${encodeURIComponent(member.user_name)}`);
  // A viewer sees the photos; a contributor also adds their own (sharing again changes the role).
  const role = element('select');
  role.name = 'role';
  role.setAttribute('aria-label', 'Their role');
  for (const [value, text] of [['viewer', 'can view'], ['contributor', 'can add photos']]) {
    const option = element('option', '', text);
    option.value = value;
    role.append(option);
  }
  const addMember = textForm('tools', 'user_name', 'User name', 'Share with (user name)', 'Share', async (name) => {
    await call('PUT', `${path}/members/${encodeURIComponent(name)}`, { role: role.value });
    await showMembers();
  });
  addMember.insertBefore(role, addMember.lastChild);

  const links = element('ul', 'links');
  const describeLink = (link) => {
    const facts = [`made ${when(link.created_at)}`];
    facts.push(link.expired ? 'expired' : link.expires_at ? `until ${when(link.expires_at)}` : 'no expiry');
    if (link.has_password) facts.push('password');
    if (link.allow_download) facts.push('downloads');
    return `Link ${facts.join(', ')}`;
  };
  const showLinks = () => fillList(links, `${path}/links`, 'No link.', describeLink, 'Revoke',
    (link) => `${path}/links/${encodeURIComponent(link.id)}`);
  const made = element('div', 'new-link');
  made.hidden = true;
  const linkForm = element('form', 'tools new-link-form');
  const days = element('input');
  days.name = 'expires_in_days';
  days.type = 'number';
  days.min = '1';
  days.max = '365';
  days.placeholder = 'Days (empty: no expiry)';
  days.setAttribute('aria-label', 'Expires after (days)');
  const password = element('input');
  password.name = 'password';
  password.type = 'password';
  password.autocomplete = 'new-password';
  password.minLength = 8;
  password.placeholder = 'Password (optional)';
  password.setAttribute('aria-label', 'Password (optional)');
  const download = element('input');
  download.type = 'checkbox';
  download.name = 'allow_download';
  const downloadLabel = element('label', '', ' Allow downloading originals');
  downloadLabel.prepend(download);
  const makeLink = element('button', '', 'Make a link');
  makeLink.type = 'submit';
  linkForm.append(days, password, downloadLabel, makeLink);
  linkForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = { allow_download: download.checked };
    if (days.value) body.expires_in_days = Number(days.value);
    if (password.value) body.password = password.value;
    try {
      const link = await call('POST', `${path}/links`, body);
      const address = element('input');
      address.readOnly = true;
      address.value = link.url;
      address.setAttribute('aria-label', 'The new link (shown once)');
      const copy = element('button', '', 'Copy');
      copy.type = 'button';
      copy.addEventListener('click', async () => {
        address.select();
        try {
          await navigator.clipboard.writeText(link.url);
          copy.textContent = 'Copied';
        } catch {
          copy.textContent = 'Select and copy';
        }
      });
      made.replaceChildren(address, copy);
      made.hidden = false;
      linkForm.reset();
      await showLinks();
    } catch (error) {
      window.alert(error.message);
    }
  });

  dialog.append(element('h2', '', 'Members'), members, addMember, element('h2', '', 'Links'),
    element('p', 'notice', 'Anyone with a link sees the photos of this collection (and nothing else of yours).'),
    linkForm, made, links, close);
  return {
    element: dialog,
    open: async () => {
      made.hidden = true;
      dialog.showModal();
      await Promise.all([showMembers(), showLinks()]);
    },
  };
}

/** The bar over a grid while photos are picked: how many, "Add to a collection…", Clear.
 * `grid()` is the grid it serves; `show(ids)` is the grid's selection callback. */
export function selectionBar(grid) {
  const bar = element('div', 'selection-bar tools');
  bar.hidden = true;
  bar.setAttribute('role', 'region');
  bar.setAttribute('aria-label', 'Selected photos');
  const count = element('strong', 'picked');
  const target = element('select', 'add-selected');
  target.setAttribute('aria-label', 'Add the selected photos to a collection');
  const clear = element('button', 'quiet', 'Clear');
  clear.type = 'button';
  clear.addEventListener('click', () => grid().clearSelection());
  const done = element('span', 'notice');
  done.setAttribute('role', 'status');
  bar.append(count, target, clear, done);
  let picked = [];
  let listed = false;
  target.addEventListener('change', async () => {
    const id = target.value;
    const title = target.selectedOptions[0].textContent;
    target.value = '';
    if (!id) return;
    try {
      let added = 0;
      for (let at = 0; at < picked.length; at += 100) {
        const answer = await call('POST', `collections/${encodeURIComponent(id)}/photos`, { ids: picked.slice(at, at + 100) });
        added += answer.added;
      }
      const total = picked.length;
      grid().clearSelection();
      done.textContent = `Added ${added} to ${title}${added < total ? ` (${total - added} already in it)` : ''}.`;
      bar.hidden = false;
    } catch (error) {
      window.alert(error.message);
    }
  });
  document.getElementById('main').append(bar);
  return {
    show: async (ids) => {
      picked = ids;
      count.textContent = `${ids.length} selected`;
      if (ids.length) done.textContent = '';
      bar.hidden = !ids.length && !done.textContent;
      count.hidden = !ids.length;
      target.hidden = !ids.length;
      if (ids.length && !listed) {
        listed = true;
        await addableCollections(target);
      }
      target.hidden = !ids.length || target.options.length === 1;
      if (ids.length && target.options.length === 1) done.textContent = 'Make a collection on Albums to add them to.';
    },
  };
}

/** Fills `select` with the collections the user may add photos to (their own, and those they
 * contribute to), for "Add to". */
export async function addableCollections(select) {
  const listed = await call('GET', 'collections');
  select.replaceChildren(element('option', '', 'Add to a collection…'));
  select.firstChild.value = '';
  for (const collection of listed.items.filter((item) => item.role !== 'viewer')) {
    const title = collection.role === 'owner' ? collection.title : `${collection.title} (${collection.owner}'s)`;
    const option = element('option', '', title);
    option.value = collection.id;
    select.append(option);
  }
  select.hidden = select.options.length === 1;
}

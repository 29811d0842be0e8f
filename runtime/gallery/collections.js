// Collections in the gallery: the user's own and those shared with them (on the albums page,
// above the label albums, "Things"), making one, a collection's page (its photos; for its
// owner: share with a user of the stack, remove members, delete), and adding the photo in view
// to one. Every title and name is set as text, never as markup.

import { call } from './api.js';

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
  const count = `${collection.photo_count} photo${collection.photo_count === 1 ? '' : 's'}`;
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
  if (collection.role !== 'owner') {
    main.append(element('p', 'notice', `Shared with you by ${collection.owner}.`));
    return collection;
  }
  const sharing = element('section', 'sharing');
  sharing.append(element('h2', '', 'Shared with'));
  const list = element('ul', 'members');
  const showMembers = async () => {
    const members = await call('GET', `collections/${encodeURIComponent(id)}/members`);
    list.replaceChildren();
    if (!members.items.length) list.append(element('li', 'notice', 'Nobody yet.'));
    for (const member of members.items) {
      const item = element('li', '', `${member.user_name} (${member.role}) `);
      const remove = element('button', 'quiet', 'Remove');
      remove.type = 'button';
      remove.addEventListener('click', async () => {
        await call('DELETE', `collections/${encodeURIComponent(id)}/members/${encodeURIComponent(member.user_name)}`);
        showMembers();
      });
      item.append(remove);
      list.append(item);
    }
  };
  const form = textForm('tools', 'user_name', 'User name', 'Share with (user name)', 'Share to view', async (name) => {
    await call('PUT', `collections/${encodeURIComponent(id)}/members/${encodeURIComponent(name)}`, { role: 'viewer' });
    await showMembers();
  });
  const remove = element('button', 'danger', 'Delete this collection');
  remove.type = 'button';
  remove.addEventListener('click', async () => {
    if (!window.confirm('Delete this collection? Its photos stay in your library.')) return;
    await call('DELETE', `collections/${encodeURIComponent(id)}`);
    location.hash = '#/albums';
  });
  sharing.append(list, form, remove);
  main.append(sharing);
  await showMembers();
  return collection;
}

/** Fills `select` with the user's own collections, for the photo view's "Add to". */
export async function ownCollections(select) {
  const listed = await call('GET', 'collections');
  select.replaceChildren(element('option', '', 'Add to a collection…'));
  select.firstChild.value = '';
  for (const collection of listed.items.filter((item) => item.role === 'owner')) {
    const option = element('option', '', collection.title);
    option.value = collection.id;
    select.append(option);
  }
  select.hidden = select.options.length === 1;
}

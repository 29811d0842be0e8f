// The HTTP API, relative to the page (`/` locally, `/prod/` behind API Gateway). The session
// token lives in sessionStorage only: never in a URL, never logged.

const base = new URL('.', document.baseURI);
const TOKEN = 'smart-album-session';

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

let expiryTimer;

export function session() {
  try {
    const stored = JSON.parse(sessionStorage.getItem(TOKEN) || 'null');
    if (stored && Date.parse(stored.expires_at) > Date.now()) return stored;
  } catch { /* a damaged entry is no session */ }
  return null;
}

export function startSession(issued) {
  sessionStorage.setItem(TOKEN, JSON.stringify({ token: issued.token, expires_at: issued.expires_at }));
  scheduleExpiry();
}

export function endSession(reason) {
  sessionStorage.removeItem(TOKEN);
  clearTimeout(expiryTimer);
  window.dispatchEvent(new CustomEvent('session-ended', { detail: reason }));
}

/** Signs out: the server ends the session (its token stops working everywhere), then the page
 * forgets it. The page forgets it even when the server cannot be reached. */
export async function signOut() {
  const current = session();
  if (current) {
    await fetch(url('sessions/current'), { method: 'DELETE', headers: headers() }).catch(() => null);
  }
  endSession('You have signed out.');
}

export function scheduleExpiry() {
  clearTimeout(expiryTimer);
  const current = session();
  if (!current) return;
  const left = Date.parse(current.expires_at) - Date.now();
  expiryTimer = setTimeout(() => endSession('Your session has ended. Sign in again.'), Math.min(left, 2 ** 31 - 1));
}

export function url(path) {
  return new URL(path, base).toString();
}

function headers(extra = {}) {
  const current = session();
  return current ? { ...extra, authorization: `Bearer ${current.token}` } : extra;
}

async function answer(response) {
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const error = data && data.error ? data.error : {};
    if (response.status === 401 && session()) endSession('Your session has ended. Sign in again.');
    const failure = new ApiError(response.status, error.code || 'http_' + response.status, error.message || response.statusText);
    failure.person_id = error.person_id;
    throw failure;
  }
  return data;
}

/** A JSON call; `body` undefined sends none. */
export async function call(method, path, body) {
  const init = { method, headers: headers() };
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  return answer(await fetch(url(path), init));
}

/** Sends `body` with `headers` and upload progress (fetch has none): resolves with the JSON answer. */
export function send(method, target, body, headers, onProgress, withToken = true) {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open(method, target);
    Object.entries(headers).forEach(([name, value]) => request.setRequestHeader(name, value));
    if (withToken) {
      const current = session();
      if (current) request.setRequestHeader('authorization', `Bearer ${current.token}`);
    }
    request.upload.onprogress = (event) => event.lengthComputable && onProgress(event.loaded / event.total);
    request.onerror = () => reject(new ApiError(0, 'network', 'The connection failed; try again.'));
    request.onload = () => {
      let data = null;
      try { data = request.responseText ? JSON.parse(request.responseText) : null; } catch { /* S3 answers XML */ }
      if (request.status >= 200 && request.status < 300) return resolve(data);
      if (request.status === 401 && withToken && session()) endSession('Your session has ended. Sign in again.');
      const error = data && data.error ? data.error : {};
      reject(new ApiError(request.status, error.code || 'http_' + request.status, error.message || `The upload failed (${request.status}).`));
    };
    request.send(body);
  });
}

// The signed-in staff session. The access token lives in memory only; the refresh token (single use,
// rotated on every refresh) is kept in sessionStorage so a reload of this tab stays signed in, and it
// is gone when the tab closes. Nothing goes to localStorage or cookies.

const REFRESH_KEY = 'ops.refresh';
const STAFF = ['dispatcher', 'police', 'responder', 'admin'];

const LOGIN = `mutation Login($input: LoginInput!) { login(input: $input) {
  accessToken refreshToken expiresAt account { fullName roles } errors { code message } } }`;
const REFRESH = `mutation Refresh($input: RefreshTokenInput!) { refreshToken(input: $input) {
  accessToken refreshToken expiresAt account { fullName roles } errors { code message } } }`;
const LOGOUT = 'mutation Logout { logout { ok errors { code message } } }';

export class SessionError extends Error {}

export class Session extends EventTarget {
  constructor() {
    super();
    this.accessToken = null;
    this.account = null;
    this.expiresAt = null;
    this._refreshing = null;
    this._timer = null;
  }

  get signedIn() { return Boolean(this.accessToken); }
  get roles() { return this.account?.roles ?? []; }

  /** Signs in with a phone or id number and a password; throws SessionError with the user's message. */
  async signIn(username, password) {
    const payload = await post(LOGIN, { input: { username, password } }, null, 'login');
    if (payload.errors.length) throw new SessionError(payload.errors[0].message);
    if (!payload.account.roles.some((r) => STAFF.includes(r))) {
      await post(LOGOUT, {}, payload.accessToken, 'logout').catch(() => null);
      throw new SessionError('notStaff');
    }
    this._accept(payload);
  }

  /** Resumes after a reload of this tab, if it still holds a refresh token. */
  async resume() {
    if (!sessionStorage.getItem(REFRESH_KEY)) return false;
    try {
      await this.refresh();
      return true;
    } catch {
      return false;
    }
  }

  /** Spends the refresh token for a new pair; concurrent callers share one request. */
  refresh() {
    this._refreshing ??= (async () => {
      try {
        const token = sessionStorage.getItem(REFRESH_KEY);
        if (!token) throw new SessionError('sessionEnded');
        const payload = await post(REFRESH, { input: { refreshToken: token } }, null, 'refreshToken');
        if (payload.errors.length) {
          this._clear('sessionEnded');
          throw new SessionError(payload.errors[0].message);
        }
        this._accept(payload);
      } finally {
        this._refreshing = null;
      }
    })();
    return this._refreshing;
  }

  /** Ends the session on the server and forgets every token here. */
  async signOut() {
    const token = this.accessToken;
    this._clear(null);
    if (token) await post(LOGOUT, {}, token, 'logout').catch(() => null);
  }

  _accept(payload) {
    this.accessToken = payload.accessToken;
    this.account = payload.account;
    this.expiresAt = new Date(payload.expiresAt);
    sessionStorage.setItem(REFRESH_KEY, payload.refreshToken);
    clearTimeout(this._timer);
    // Refresh a minute before expiry (or at 80 % of a short lifetime) so requests never carry a dead token.
    const life = this.expiresAt.getTime() - Date.now();
    const at = Math.max(5_000, Math.min(life - 60_000, life * 0.8));
    this._timer = setTimeout(() => this.refresh().catch(() => null), at);
    this.dispatchEvent(new CustomEvent('change', { detail: { signedIn: true } }));
  }

  _clear(reason) {
    clearTimeout(this._timer);
    this.accessToken = null;
    this.account = null;
    sessionStorage.removeItem(REFRESH_KEY);
    this.dispatchEvent(new CustomEvent('change', { detail: { signedIn: false, reason } }));
  }
}

async function post(query, variables, token, field) {
  const headers = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch('/graphql', { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  const body = await response.json();
  if (body.errors?.length) throw new SessionError(body.errors[0].message);
  return body.data[field];
}

// A small graphql-transport-ws client (the protocol of github.com/enisdenjo/graphql-ws):
// connection_init with {"authorization": "Bearer ..."} -> connection_ack, then subscribe/next/error/complete,
// pong to every ping. It reconnects with backoff, re-subscribes, and tells listeners ('status' events) so
// they can resynchronise what they missed while offline. A 4403 close means the token was refused:
// the client asks for a fresh one (refresh) before it tries again.

export const PROTOCOL = 'graphql-transport-ws';
const decoder = new TextDecoder();

export class TransportWs extends EventTarget {
  /**
   * @param {string} url ws:// or wss:// URL of /graphql
   * @param {() => Promise<object>} connectionParams payload of connection_init (called per connection)
   * @param {() => Promise<void>} onRefused called after a 4403 close; throw to stop reconnecting
   */
  constructor(url, connectionParams, onRefused = async () => {}) {
    super();
    this.url = url;
    this.connectionParams = connectionParams;
    this.onRefused = onRefused;
    this.socket = null;
    this.status = 'offline';
    this.subscriptions = new Map();
    this.nextId = 1;
    this.retries = 0;
    this.closed = false;
    this.connections = 0;
    this._timer = null;
  }

  /** Starts a subscription; returns the function that stops it. sink: {next(data), error(errors), complete()}. */
  subscribe(query, variables, sink) {
    const id = String(this.nextId++);
    this.subscriptions.set(id, { query, variables, sink });
    if (this.status === 'live') this._send({ id, type: 'subscribe', payload: { query, variables } });
    else this._connect();
    return () => {
      if (!this.subscriptions.delete(id)) return;
      if (this.status === 'live') this._send({ id, type: 'complete' });
    };
  }

  /** Closes the connection for good (sign-out). */
  close() {
    this.closed = true;
    clearTimeout(this._timer);
    this.subscriptions.clear();
    if (this.socket) this.socket.close(1000, 'bye');
    this._setStatus('offline');
  }

  _setStatus(status) {
    if (this.status === status) return;
    this.status = status;
    this.dispatchEvent(new CustomEvent('status', { detail: { status, connections: this.connections } }));
  }

  _send(message) {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  async _connect() {
    if (this.closed || this.socket || this.status === 'connecting') return;
    this._setStatus('connecting');
    let payload;
    try {
      payload = await this.connectionParams();
    } catch {
      this._setStatus('offline');
      return;
    }
    const socket = new WebSocket(this.url, PROTOCOL);
    this.socket = socket;
    socket.onopen = () => socket.send(JSON.stringify({ type: 'connection_init', payload }));
    // The server encodes with orjson and sends binary frames: decode them as UTF-8 text.
    socket.binaryType = 'arraybuffer';
    socket.onmessage = (event) => this._receive(JSON.parse(
      typeof event.data === 'string' ? event.data : decoder.decode(event.data)));
    socket.onclose = (event) => this._closed(socket, event);
  }

  _receive(message) {
    switch (message.type) {
      case 'connection_ack':
        this.retries = 0;
        this.connections += 1;
        for (const [id, { query, variables }] of this.subscriptions) {
          this._send({ id, type: 'subscribe', payload: { query, variables } });
        }
        this._setStatus('live');
        break;
      case 'ping':
        this._send({ type: 'pong' });
        break;
      case 'next':
        this.subscriptions.get(message.id)?.sink.next(message.payload);
        break;
      case 'error':
        this.subscriptions.get(message.id)?.sink.error?.(message.payload);
        this.subscriptions.delete(message.id);
        break;
      case 'complete':
        this.subscriptions.get(message.id)?.sink.complete?.();
        this.subscriptions.delete(message.id);
        break;
      default:
        break;
    }
  }

  async _closed(socket, event) {
    if (this.socket !== socket) return;
    this.socket = null;
    this._setStatus('offline');
    if (this.closed || this.subscriptions.size === 0) return;
    if (event.code === 4403) {
      try {
        await this.onRefused();
      } catch {
        return; // signed out: the app shows the sign-in form
      }
    }
    const delay = Math.min(10_000, 250 * 2 ** this.retries) * (0.75 + Math.random() / 2);
    this.retries += 1;
    this._timer = setTimeout(() => this._connect(), delay);
  }
}

/** The ws:// (or wss://) URL of this server's /graphql. */
export function graphqlWsUrl() {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/graphql`;
}

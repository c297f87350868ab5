/**
 * The devnet's block stream (`/api/chain/ws`): every new head, pushed to each WebSocket client, with
 * the connection count, message size and buffered bytes capped, and clients that vanished dropped by
 * a heartbeat (issue #14: nothing a client sends can grow the coordinator's memory).
 */
import type { IncomingMessage, Server } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import type { DevnetHead } from '../net/devnet-protocol.ts';

/** Clients send nothing meaningful over the block stream: anything larger than this closes it. */
const MAX_WEBSOCKET_PAYLOAD = 1024;
/** A block-stream client that stops reading is dropped once this much waits for it. */
const MAX_WEBSOCKET_BUFFERED = 64 * 1024;

/** Serves the block stream on `server`'s upgrades; `close` ends every client and the timers. */
export function serveBlockStream(server: Server, head: () => DevnetHead, blockTimeMs: number, maxWebSockets: number): { close(): void } {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_WEBSOCKET_PAYLOAD });
  let upgrading = 0;
  server.on('upgrade', (req: IncomingMessage, socket, upgradeHead: Buffer) => {
    socket.on('error', () => socket.destroy());
    if (req.url !== '/api/chain/ws') {
      socket.destroy();
      return;
    }
    if (wss.clients.size + upgrading >= maxWebSockets) {
      socket.end(`HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    // Counted from the handshake's start, so a burst of upgrades cannot overshoot the cap.
    upgrading++;
    let pending = true;
    const settled = (): void => {
      if (pending) upgrading--;
      pending = false;
    };
    socket.once('close', settled);
    wss.handleUpgrade(req, socket, upgradeHead, (ws: WebSocket) => {
      settled();
      const alive = ws as WebSocket & { alive?: boolean };
      alive.alive = true;
      // An oversized or malformed frame closes this socket (ws answers 1009/1002); it must not reach the process.
      ws.on('error', () => ws.terminate());
      ws.on('pong', () => (alive.alive = true));
      // Clients have nothing to say on the block stream; whatever they send is ignored.
      ws.on('message', () => {});
      ws.send(JSON.stringify({ type: 'block', ...head() }));
    });
  });
  let lastBroadcast = head().number;
  const ticker = setInterval(() => {
    const h = head();
    if (h.number === lastBroadcast) return;
    lastBroadcast = h.number;
    const message = JSON.stringify({ type: 'block', ...h });
    for (const client of wss.clients) {
      if (client.bufferedAmount > MAX_WEBSOCKET_BUFFERED) client.terminate();
      else client.send(message);
    }
  }, Math.max(20, Math.floor(blockTimeMs / 10)));
  // Sockets whose peer vanished without closing answer no ping: dropped at the next round.
  const heartbeat = setInterval(() => {
    for (const client of wss.clients) {
      const c = client as WebSocket & { alive?: boolean };
      if (c.alive === false) {
        c.terminate();
        continue;
      }
      c.alive = false;
      c.ping();
    }
  }, 30_000);
  heartbeat.unref();

  return {
    close: () => {
      clearInterval(ticker);
      clearInterval(heartbeat);
      for (const client of wss.clients) client.terminate();
      wss.close();
    },
  };
}

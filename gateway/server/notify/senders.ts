/**
 * One send per channel kind. Each resolves when the receiver has accepted the message and rejects
 * with an error that says what the receiver answered; each gives up after `timeoutMs`, so a
 * receiver that hangs costs its own channel that long and nothing else.
 *
 * - webhook: JSON POST of the notice (with its id as `Idempotency-Key`), `Authorization: Bearer`
 *   when a secret is set;
 * - ntfy: ntfy's JSON publish format (POST to the server's root with topic, title, message,
 *   priority, tags), an access token as Bearer;
 * - email: SMTP through nodemailer, plain text.
 */
import nodemailer from 'nodemailer';
import type { EmailChannel, NotificationChannel, NtfyChannel, WebhookChannel } from '../../store/types.js';
import type { Message, Notice } from './messages.js';

export type Send = (channel: NotificationChannel, notice: Notice, msg: Message) => Promise<void>;

async function post(
  url: string,
  body: unknown,
  secret: string | undefined,
  timeoutMs: number,
  extra: Record<string, string> = {},
): Promise<void> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(secret !== undefined ? { authorization: `Bearer ${secret}` } : {}),
        ...extra,
      },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'error',
    });
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause?.code;
    const why =
      (e as Error).name === 'TimeoutError'
        ? `no answer within ${timeoutMs} ms`
        : (cause ?? (e as Error).message);
    throw new Error(`${url}: ${why}`, { cause: e });
  }
  // The body is not needed; reading it releases the connection.
  const text = await res.text().catch(() => '');
  if (!res.ok) throw new Error(`${url} answered ${res.status}${text ? `: ${text.slice(0, 120)}` : ''}`);
}

function webhook(c: WebhookChannel, n: Notice, m: Message, timeoutMs: number): Promise<void> {
  return post(
    c.url,
    {
      id: n.id,
      event: n.event,
      atEpochMs: n.atEpochMs,
      station: n.stationId === null ? null : { id: n.stationId, name: n.stationName },
      title: m.title,
      message: m.text,
      urgent: m.urgent,
      ...(n.alarm ? { alarm: { code: n.alarm.code, priority: n.alarm.priority } } : {}),
    },
    c.secret,
    timeoutMs,
    { 'idempotency-key': n.id },
  );
}

function ntfy(c: NtfyChannel, n: Notice, m: Message, timeoutMs: number): Promise<void> {
  return post(
    c.server.replace(/\/+$/, ''),
    {
      topic: c.topic,
      title: m.title,
      message: m.text,
      // ntfy: 5 = max/urgent (long vibration, bypasses Do Not Disturb on Android), 3 = default.
      priority: m.urgent ? 5 : 3,
      tags: [n.event === 'test' ? 'test_tube' : m.urgent ? 'rotating_light' : 'information_source'],
    },
    c.secret,
    timeoutMs,
  );
}

async function email(c: EmailChannel, m: Message, timeoutMs: number): Promise<void> {
  const transport = nodemailer.createTransport({
    host: c.host,
    port: c.port,
    secure: c.tls,
    ...(c.user !== undefined ? { auth: { user: c.user, pass: c.secret ?? '' } } : {}),
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  });
  try {
    await transport.sendMail({ from: c.from, to: c.to, subject: m.title, text: m.text });
  } catch (e) {
    throw new Error(`smtp ${c.host}:${c.port}: ${(e as Error).message}`, { cause: e });
  } finally {
    transport.close();
  }
}

export function realSend(timeoutMs: number): Send {
  return (channel, notice, msg) => {
    switch (channel.kind) {
      case 'webhook':
        return webhook(channel, notice, msg, timeoutMs);
      case 'ntfy':
        return ntfy(channel, notice, msg, timeoutMs);
      case 'email':
        return email(channel, msg, timeoutMs);
    }
  };
}

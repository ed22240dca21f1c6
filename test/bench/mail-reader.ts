// Reads a code from Mailpit the way a user reads their mailbox: the newest message to an
// address, found with Mailpit's search API (one request), then its text (a second one).
const CODE = /^\s+(\d{6,10})\s*$/m;
const ANY_CODE = /\b(\d{6,10})\b/;

export class MailReader {
  readonly #url: string;

  constructor(mailpitHttpUrl: string) {
    this.#url = mailpitHttpUrl;
  }

  /** The code in the newest message to `to`; waits (polling briefly) until it has arrived. */
  async codeFor(to: string, timeoutMs = 15_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    const query = encodeURIComponent(`to:"${to}"`);
    for (;;) {
      const res = await fetch(`${this.#url}/api/v1/search?query=${query}&limit=1`);
      if (!res.ok) throw new Error(`Mailpit search: ${res.status}`);
      const id = ((await res.json()) as { messages: { ID: string }[] }).messages[0]?.ID;
      if (id) {
        const message = await fetch(`${this.#url}/api/v1/message/${encodeURIComponent(id)}`);
        if (!message.ok) throw new Error(`Mailpit message: ${message.status}`);
        const text = ((await message.json()) as { Text: string }).Text;
        const code = (CODE.exec(text) ?? ANY_CODE.exec(text))?.[1];
        if (!code) throw new Error(`no code in the mail to ${to}`);
        return code;
      }
      if (Date.now() > deadline) throw new Error(`no mail to ${to} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

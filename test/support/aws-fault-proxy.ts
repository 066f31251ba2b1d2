import { readFileSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { freePort } from './moto.ts';
import { CA_CERT } from './tls.ts';

/**
 * An AWS endpoint in front of moto that answers one EC2 action with an AWS error, the way AWS
 * does when a quota is used up; every other request goes through to moto unchanged.
 */
export async function startFaultProxy(motoEndpoint: string, fault: { action: string; code: string; message: string }): Promise<{ endpoint: string; hits: () => number; stop(): Promise<void> }> {
  const target = new URL(motoEndpoint);
  let hits = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (new URLSearchParams(body.toString()).get('Action') === fault.action) {
        hits++;
        res.writeHead(400, { 'Content-Type': 'text/xml' });
        res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${fault.code}</Code><Message>${fault.message}</Message></Error></Errors><RequestID>fault-proxy</RequestID></Response>`);
        return;
      }
      const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
      const upstream = send(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers, ...(target.protocol === 'https:' ? { ca: readFileSync(CA_CERT) } : {}) },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', (error) => res.writeHead(502).end(error.message));
      upstream.end(body);
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${port}`,
    hits: () => hits,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

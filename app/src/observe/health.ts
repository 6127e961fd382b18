// /healthz (the process is alive and its loop is turning), /readyz (model loaded and the sink
// reachable) and /metrics, on HTTP_PORT. Plain node:http: three routes need no framework.
import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

export interface HealthChecks {
  /** Liveness: false only when the process should be restarted. */
  live(): boolean;
  /** Readiness: model loaded, sink reachable. */
  ready(): Promise<boolean>;
}

export function startHealthServer(port: number, checks: HealthChecks, registry: Registry): Promise<Server> {
  const server = createServer((request, response) => {
    const reply = (status: number, body: string, type = 'text/plain; charset=utf-8') => {
      response.writeHead(status, { 'content-type': type });
      response.end(body);
    };
    const route = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      reply(405, 'method not allowed\n');
      return;
    }
    switch (route) {
      case '/healthz':
        reply(checks.live() ? 200 : 503, checks.live() ? 'ok\n' : 'unhealthy\n');
        return;
      case '/readyz':
        checks.ready().then(
          (ready) => {
            reply(ready ? 200 : 503, ready ? 'ready\n' : 'not ready\n');
          },
          () => {
            reply(503, 'not ready\n');
          },
        );
        return;
      case '/metrics':
        registry.metrics().then(
          (text) => {
            reply(200, text, registry.contentType);
          },
          (error: unknown) => {
            reply(500, `${String(error)}\n`);
          },
        );
        return;
      default:
        reply(404, 'not found\n');
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

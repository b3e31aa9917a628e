/**
 * A Hugging Face hub on 127.0.0.1 for tests: serves model folders from disk in the hub's URL layout
 * (the requests @huggingface/hub makes: `GET /api/models/ORG/NAME/revision/REV`, `POST
 * /api/models/ORG/NAME/paths-info/REV`, `GET /ORG/NAME/resolve/REV/FILE` with Range), one commit per
 * repo. Files are served as LFS files (etag = sha256), as model weights are on the hub. Counts the
 * requests so tests can show what was (not) downloaded. Listens on an ephemeral port; `close()` stops it,
 * and it does not keep the process alive.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

export interface HubRepo {
  /** ORG/NAME. */
  name: string;
  /** The folder whose files are served. */
  dir: string;
  /** The files of the repo (paths relative to dir). */
  files: string[];
}

export interface TestHub {
  endpoint: string;
  /** The commit hash of `main` for a repo. */
  commit(name: string): string;
  /** Requests so far, as "METHOD path". */
  requests: string[];
  close(): Promise<void>;
}

interface ServedFile {
  bytes: Buffer;
  sha256: string;
}

function sha1Hex(s: string): string {
  return createHash('sha1').update(s).digest('hex');
}

export async function startTestHub(repos: HubRepo[]): Promise<TestHub> {
  const served = new Map<string, { commit: string; files: Map<string, ServedFile> }>();
  for (const r of repos) {
    const files = new Map<string, ServedFile>();
    for (const f of r.files) {
      const bytes = readFileSync(join(r.dir, f));
      files.set(f, { bytes, sha256: createHash('sha256').update(bytes).digest('hex') });
    }
    served.set(r.name, { commit: sha1Hex(`${r.name}:${[...files.values()].map((f) => f.sha256).join(',')}`), files });
  }
  const requests: string[] = [];

  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const readBody = (req: IncomingMessage) =>
    new Promise<string>((resolve) => {
      let s = '';
      req
        .setEncoding('utf8')
        .on('data', (d: string) => (s += d))
        .on('end', () => resolve(s));
    });
  const repoAt = (name: string, rev: string) => {
    const repo = served.get(name);
    return repo && (rev === 'main' || rev === repo.commit) ? repo : undefined;
  };

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const path = decodeURIComponent(url.pathname);
      requests.push(`${req.method} ${path}`);
      let m = /^\/api\/models\/([^/]+\/[^/]+)\/revision\/(.+)$/.exec(path);
      if (m && req.method === 'GET') {
        const repo = repoAt(m[1]!, m[2]!);
        if (!repo) return json(res, 404, { error: 'Repository not found' });
        return json(res, 200, {
          _id: m[1],
          id: m[1],
          sha: repo.commit,
          private: false,
          siblings: [...repo.files.keys()].map((rfilename) => ({ rfilename })),
        });
      }
      m = /^\/api\/models\/([^/]+\/[^/]+)\/paths-info\/(.+)$/.exec(path);
      if (m && req.method === 'POST') {
        const repo = repoAt(m[1]!, m[2]!);
        if (!repo) return json(res, 404, { error: 'Repository not found' });
        const { paths } = JSON.parse(await readBody(req)) as { paths: string[] };
        return json(
          res,
          200,
          paths
            .filter((p) => repo.files.has(p))
            .map((p) => {
              const f = repo.files.get(p)!;
              return {
                type: 'file',
                path: p,
                oid: sha1Hex(`blob:${f.sha256}`),
                size: f.bytes.length,
                lfs: { oid: f.sha256, size: f.bytes.length, pointerSize: 134 },
                lastCommit: { id: repo.commit, title: 'add', date: '2026-01-01T00:00:00.000Z' },
              };
            }),
        );
      }
      m = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(path);
      if (m && req.method === 'GET') {
        const repo = repoAt(m[1]!, m[2]!);
        const f = repo?.files.get(m[3]!);
        if (!repo || !f) {
          res.writeHead(404, { 'X-Error-Code': 'EntryNotFound' });
          return res.end();
        }
        const headers = { ETag: `"${f.sha256}"`, 'X-Linked-ETag': `"${f.sha256}"`, 'X-Repo-Commit': repo.commit, 'Accept-Ranges': 'bytes' };
        const range = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
        if (range) {
          const start = Number(range[1]);
          const end = Math.min(Number(range[2]), f.bytes.length - 1);
          res.writeHead(206, {
            ...headers,
            'Content-Range': `bytes ${start}-${end}/${f.bytes.length}`,
            'Content-Length': String(end - start + 1),
          });
          return res.end(f.bytes.subarray(start, end + 1));
        }
        res.writeHead(200, { ...headers, 'Content-Length': String(f.bytes.length) });
        return res.end(f.bytes);
      }
      json(res, 404, { error: `no route ${req.method} ${path}` });
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.unref();
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    commit: (name) => served.get(name)!.commit,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Spare ports for the processes a test starts. */
import { createServer } from 'node:net';

/** A port free right now on 127.0.0.1 (the kernel's pick: parallel runs do not collide). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

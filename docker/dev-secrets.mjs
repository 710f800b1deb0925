// Preloaded by the apps of docker/compose.yml (`node --import ./docker/dev-secrets.mjs …`): fills each variable of the
// development secrets file that compose's `setup` job writes once (scripts/dev-secrets.ts) into the environment,
// unless the environment already sets it — so every process shares one signing key and one internal secret, and
// docker/.env can still override them. The configuration is read after this runs. Without the file: nothing.
import { existsSync, readFileSync } from 'node:fs';

const file = process.env.FIREFLY_DEV_SECRETS_FILE || '/run/firefly/dev-secrets.json';
if (existsSync(file)) {
  for (const [name, value] of Object.entries(JSON.parse(readFileSync(file, 'utf8')))) {
    if (!process.env[name]) process.env[name] = String(value);
  }
}

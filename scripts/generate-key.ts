/**
 * `npm run keys:generate [kid]`: prints a new private Ed25519 JWK for ACCESS_TOKEN_KEYS (see README, "Rotating the
 * signing key"). Store it as a secret; never commit it.
 */
import { generateSigningKey } from '@firefly/auth';

const kid = process.argv[2] ?? new Date().toISOString().slice(0, 10);
const { privateJwk } = await generateSigningKey(kid);
console.log(JSON.stringify(privateJwk));

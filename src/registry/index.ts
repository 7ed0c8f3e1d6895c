// The registry client (docs/registry.md): stage storage for `stapel2docker build`.
export { parseImageRef, parseRepository, formatImageRef, isLoopback, apiHost, DOCKER_HUB, type ImageRef } from "./ref.js";
export {
  RegistryClient,
  MEDIA_TYPES,
  MANIFEST_ACCEPT,
  isIndexMediaType,
  sha256Digest,
  type RegistryClientOptions,
  type Manifest,
  type ManifestInfo,
  type ImageConfigResult,
} from "./client.js";
export { DockerCredentialStore, runCredentialHelper, normalizeAuthKey, type Credentials } from "./credentials.js";
export { parseWwwAuthenticate, TokenCache, type Challenge } from "./auth.js";
export { registryImageConfigResolver } from "./resolver.js";

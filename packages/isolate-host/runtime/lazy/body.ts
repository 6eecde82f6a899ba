/**
 * Entry of the lazily loaded body family (runtime-dist/lazy-body.js): Blob,
 * File, FormData and the parsers and serialisers behind Body.formData(),
 * Body.blob() and FormData bodies. Loaded by runtime/body-family.ts on first
 * use, so a request that never touches them does not pay for them.
 */
export { Blob, blobBytes, blobFromBytes, File } from "../body/blob.js";
export { setBodyDeps } from "../body/deps.js";
export { FormData, formDataEntries, formDataOf } from "../body/form-data.js";
export { extractMimeType, serializeMimeType } from "../body/mime-type.js";
export { generateBoundary, parseMultipart, serializeMultipart } from "../body/multipart.js";
export { cloneTee } from "../body/tee.js";
export { parseUrlencoded } from "../body/urlencoded.js";

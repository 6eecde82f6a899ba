export {
  cityRecord,
  encodeValue,
  type MmdbNetwork,
  type MmdbValue,
  type TypedNumber,
  writeMmdb,
} from "./mmdb-writer.js";

export {
  createGrpcServer,
  type GrpcControlServer,
  type GrpcServerConfig,
  type GrpcServerOptions,
} from "./server.js";
export { GRPC_SERVER_OPTIONS } from "./server-options.js";

export { NODE_TOKEN_METADATA, nodeTokenCheck } from "./node-auth.js";
export {
  createGrpcServer,
  type GrpcControlServer,
  type GrpcServerConfig,
  type GrpcServerOptions,
  HEALTH_SERVICES,
} from "./server.js";
export { GRPC_SERVER_OPTIONS, grpcServerOptions } from "./server-options.js";

export { DEV_ADMIN_TOKEN, loadConfig, ROUTER_ENV_VARS, type RouterConfig } from "./config.js";
export { answerDnsMessage, type DnsAnswerDeps, RCODE } from "./dns/answer.js";
export { type ClientSubnet, echoClientSubnet, readClientSubnet } from "./dns/client-subnet.js";
export {
  createNodeAddressBook,
  type HostResolver,
  type NodeAddressBook,
  type NodeAddresses,
} from "./dns/node-addresses.js";
export { type DnsServer, type DnsServerOptions, startDnsServer } from "./dns/server.js";
export {
  type ErrorBody,
  errorBody,
  ROUTER_ERRORS,
  RouterConfigError,
  type RouterErrorCode,
} from "./errors.js";
export {
  CLIENT_LOCATION_HEADER,
  createHttpEntry,
  type HttpEntry,
  type HttpEntryOptions,
  RETRIED_FROM_HEADER,
  ROUTE_NOTE_HEADER,
  ROUTED_TO_HEADER,
} from "./http/entry.js";
export { authorityOf, type HostPort, parseHostPort } from "./node-address.js";
export { createNodePoller, type NodePoller, type NodePollerOptions } from "./node-view/poller.js";
export { type NodeSnapshot, type NodeViewSource, staticNodeView } from "./node-view/types.js";
export { createDecider, type Decide } from "./route-decider.js";
export { createRouter, type Router, type RouterDeps } from "./router.js";

export { requestWithHost, type SimpleResponse } from "./http-client.js";

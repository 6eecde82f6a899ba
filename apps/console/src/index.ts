export { CONSOLE_SECURITY_HEADERS, type ConsoleAsset, loadConsoleAssets } from "./assets.js";

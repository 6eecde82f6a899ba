#!/usr/bin/env node
// The `edge-control-plane` command npm links (a tracked file, so a fresh clone's `npm install` can link it).
import { launch } from "../../../scripts/app-launcher.mjs";

await launch(new URL("../", import.meta.url), { name: "edge-control-plane" });

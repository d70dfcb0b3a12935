// How a sandbox child is started: which operating-system layers this machine offers, probed once per
// process, and the command line that applies them. Layers (each optional except the first two):
// a separate process with an empty environment and only its three pipes; Node's permission model (read
// access to Pyodide's folder and the child script only; no child processes, workers, addons or WASI);
// a network namespace of its own (no interface but a down loopback) through unshare; an unprivileged
// user (nobody) when the host runs as root, through setpriv, with no new privileges and no capabilities;
// resource limits through prlimit (no core files, no file writes, few descriptors); a V8 heap cap.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';

export const NOBODY = 65534;

export interface Isolation {
  permissionModel: boolean;
  networkNamespace: boolean;
  unprivilegedUser: boolean;
  resourceLimits: boolean;
  /** One line per layer that is off on this machine, and why. */
  missing: string[];
}

function findTool(name: string): string | null {
  for (const dir of ['/usr/bin', '/bin', '/usr/sbin', '/sbin']) {
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not here
    }
  }
  return null;
}

/** True when `path` and every folder above it can be read (and entered) by any user. */
function readableByAnyone(path: string): boolean {
  const mode = statSync(path).mode;
  if ((mode & 0o004) === 0) return false;
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    if ((statSync(dir).mode & 0o001) === 0) return false;
    if (dir === sep || dirname(dir) === dir) return true;
  }
}

interface Layers {
  netns: boolean;
  user: boolean;
  limits: boolean;
}

/** The argv that starts `node <nodeArgs>` with the chosen layers (tool paths resolved). */
function wrap(layers: Layers, nodeArgs: string[]): string[] {
  const argv: string[] = [];
  const root = process.getuid?.() === 0;
  if (layers.netns) argv.push(findTool('unshare')!, ...(root ? ['--net'] : ['--user', '--net']), '--');
  if (layers.limits) argv.push(findTool('prlimit')!, '--core=0', '--fsize=0', '--nofile=256', '--');
  if (layers.user) {
    argv.push(findTool('setpriv')!, `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '--no-new-privs', '--inh-caps=-all', '--bounding-set=-all', '--');
  }
  argv.push(process.execPath, ...nodeArgs);
  return argv;
}

export function permissionFlags(readable: string[]): string[] {
  const flag = Number(process.versions.node.split('.')[0]) >= 22 ? '--permission' : '--experimental-permission';
  return [flag, ...readable.map((p) => `--allow-fs-read=${p}`)];
}

function works(argv: string[]): boolean {
  const r = spawnSync(argv[0]!, argv.slice(1), { env: {}, stdio: 'ignore', timeout: 30_000 });
  return r.status === 0;
}

let probed: Isolation | null = null;

/** Probes the layers once per process (a few short spawns) and says once on stderr which are off. */
export function probeIsolation(readable: string[]): Isolation {
  if (probed) return probed;
  const missing: string[] = [];
  const check = ['-e', '0'];
  const permissionModel = works(wrap({ netns: false, user: false, limits: false }, [...permissionFlags(readable), ...check]));
  if (!permissionModel) missing.push(`Node ${process.version} has no permission model`);
  const root = process.getuid?.() === 0;
  let user = false;
  // Not root: the children keep the host's (already unprivileged) user.
  if (!root) user = false;
  else if (!findTool('setpriv')) missing.push('unprivileged user: setpriv not found');
  else if (!readable.every(readableByAnyone)) missing.push('unprivileged user: Pyodide or the child script is not readable by other users');
  else user = works(wrap({ netns: false, user: true, limits: false }, check)) || (missing.push('unprivileged user: setpriv failed'), false);
  const netns = (findTool('unshare') !== null && works(wrap({ netns: true, user, limits: false }, check))) || (missing.push('network namespace: unshare --net is not allowed here'), false);
  const limits = (findTool('prlimit') !== null && works(wrap({ netns, user, limits: true }, check))) || (missing.push('resource limits: prlimit not usable'), false);
  probed = { permissionModel, networkNamespace: netns, unprivilegedUser: user, resourceLimits: limits, missing };
  if (missing.length) process.stderr.write(`unitrace sandbox: running without some isolation layers:\n${missing.map((m) => `  - ${m}`).join('\n')}\n`);
  return probed;
}

export interface ChildCommand {
  file: string;
  args: string[];
}

export function childCommand(iso: Isolation, script: string, pyodideDir: string, jsHeapMb: number): ChildCommand {
  const nodeArgs = [
    ...(iso.permissionModel ? permissionFlags([pyodideDir, script]) : []),
    '--disallow-code-generation-from-strings',
    `--max-old-space-size=${jsHeapMb}`,
    '--no-warnings',
    script,
    pyodideDir,
  ];
  const [file, ...args] = wrap({ netns: iso.networkNamespace, user: iso.unprivilegedUser, limits: iso.resourceLimits }, nodeArgs);
  return { file: file!, args };
}

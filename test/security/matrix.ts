/**
 * The security suite's checked-in matrix: class × variant × entry point, and what must happen.
 *
 * Classes are issue 13's (1 volume driver options, 2 time of check vs time of use, 3 sensitive host
 * paths, 4 security_opt and capabilities, 5 other containers, 6 host files, 7 one call stops everyone,
 * 8 redaction, 9 destructive through moderate tools). Every row is data: the harness
 * (`harness.ts`) replaces the placeholders below, runs the `before` steps, snapshots the engine
 * objects and the host paths the row names, makes the call through the compiled binary, checks the
 * expectation, and snapshots again.
 *
 * Placeholders, in any string (keys too):
 * - `{name}`: a name unique to the row (suffix it for more: `{name}-v`);
 * - `{tmp}`: this run's directory under the system temp dir; `{proj}`: this run's directory under `~`;
 * - `{home}`: the server user's home; `{image}`: the test image;
 * - `{dataRoot}` `{execRoot}` `{containerdSocket}` `{dockerSocket}`: the engine's own, as it reports them
 *   (`/info`, and the command line of the dockerd serving DOCKER_HOST);
 * - `{fx.<key>}`: a shared fixture made through the raw Engine API (see FIXTURES).
 */

export type SecurityClass = 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;

/** The setting a refusal's hint must name. */
export type Setting = 'privileged' | 'allowlist' | 'destructive';
export const SETTING_NAMES: Record<Setting, readonly string[]> = {
  privileged: ['SAFETY_ALLOW_PRIVILEGED_CONTAINERS'],
  allowlist: ['SAFETY_VOLUME_MOUNT_ALLOWLIST', '--mount-allowlist'],
  destructive: ['SAFETY_ALLOW_DESTRUCTIVE_OPERATIONS'],
};

/** Which server a row talks to: default safety settings unless it says otherwise. */
export type Profile = 'default' | 'privileged' | 'destructive' | 'engine-parent-allowed';

export type Args = Record<string, unknown>;

/** Steps a row needs before its call. Paths must be under `{tmp}` or `{proj}` (the harness checks). */
export type Step =
  | { mkdir: string }
  | { write: string; content: string }
  /** Replaces the path (a directory made earlier) with a symlink to `to`. */
  | { symlink: string; to: string }
  | { fifo: string }
  /** A file whose name is not valid UTF-8 (the byte 0xff) in this directory. */
  | { oddName: string }
  /** A call through the server that must succeed. */
  | { call: string; args: Args }
  /** A container made through the raw Engine API (label, network none and the test image added). */
  | { container: string; hostConfig?: Args; cmd?: string[]; env?: string[]; start?: boolean; pause?: boolean }
  /** A volume made through the raw Engine API. */
  | { volume: string; driverOpts: Record<string, string> };

type Kind = 'policy_denied' | 'invalid_argument' | 'conflict';

export type Expect =
  /** A refusal: the kind, what the message names (each entry: one of these strings), the setting. */
  | {
      /** The kind (or one of these kinds). */
      refused: Kind | Kind[];
      names: (string | string[])[];
      /** The hint names this setting (or one of these). */
      setting?: Setting | Setting[];
    }
  /** Bounded work: an answer (success, or an error of these kinds) within `ms`, other calls answering meanwhile. */
  | { answers: { ms: number; errorKinds: string[]; mustError?: boolean } }
  /** Redaction: the result shows the names but none of the values. */
  | { masks: string[]; shows: string[] }
  /** Bounded memory: the server's peak RSS grows by at most this many MiB over the call. */
  | { peakGrowthMiB: number };

export interface Row {
  class: SecurityClass;
  variant: string;
  tool: string;
  args: Args;
  before?: Step[];
  expect: Expect;
  profile?: Profile;
  /** Host paths to hash before and after besides those in the arguments. */
  paths?: string[];
}

/** Shared hostile objects, made once through the raw Engine API (never through the server). */
export const FIXTURES = {
  /** Privileged, running `sleep` only, no mounts. */
  priv: { hostConfig: { Privileged: true }, start: true },
  /** Shares the host's PID and IPC namespaces, running `sleep`. */
  hostns: { hostConfig: { PidMode: 'host', IpcMode: 'host' }, start: true },
  /** Shares the host's network namespace; created, never started. */
  hostnet: { hostConfig: { NetworkMode: 'host' }, start: false },
  /** Mounts the engine socket (read-only bind: connect still works), running `sleep`. */
  sock: { hostConfig: { Binds: ['{dockerSocket}:/var/run/docker.sock:ro'] }, start: true },
  /** CAP_SYS_ADMIN added, running `sleep`. */
  sysadmin: { hostConfig: { CapAdd: ['SYS_ADMIN'] }, start: true },
  /** seccomp off, running `sleep`. */
  unconfined: { hostConfig: { SecurityOpt: ['seccomp=unconfined'] }, start: true },
  /** /etc bound read-only, created, never started. */
  etcbind: { hostConfig: { Binds: ['/etc:/host-etc:ro'] }, start: false },
  /** /etc bound read-only, running `sleep`. */
  etcbindRunning: { hostConfig: { Binds: ['/etc:/host-etc:ro'] }, start: true },
  /** A plain container, running `sleep`. */
  plain: { hostConfig: {}, start: true },
} as const;
export type FixtureKey = keyof typeof FIXTURES;

const P = 'policy_denied' as const;
const priv = (names: (string | string[])[]): Expect => ({ refused: P, names, setting: 'privileged' });
const path = (names: (string | string[])[]): Expect => ({ refused: P, names, setting: 'allowlist' });
const create = (extra: Args): Args => ({ image: '{image}', name: '{name}', ...extra });
const bind = (src: string, variant: string, cls: SecurityClass = 3): Row[] => [
  {
    class: cls,
    variant: `${variant}: bind in volumes`,
    tool: 'docker_create_container',
    args: create({ volumes: [`${src}:/h:ro`] }),
    expect: path([src]),
  },
  {
    class: cls,
    variant: `${variant}: bind in volumes (object form)`,
    tool: 'docker_run_container',
    args: create({ volumes: { [src]: { bind: '/h', mode: 'ro' } }, command: 'true' }),
    expect: path([src]),
  },
];
const volume = (
  variant: string,
  driverOpts: Record<string, string>,
  setting: Setting | Setting[] = ['privileged', 'allowlist'],
): Row => ({
  class: 1,
  variant,
  tool: 'docker_create_volume',
  args: { name: '{name}', driver_opts: driverOpts },
  expect: {
    refused: P,
    // The argument, the refused type, or the host path the options name.
    names: [
      [
        'driver_opts',
        'driver option',
        'lowerdir',
        `'${Object.values(driverOpts)[0]}'`,
        ...Object.values(driverOpts).filter((v) => v.startsWith('/')),
      ],
    ],
    setting,
  },
});
const secOpt = (value: string): Row => ({
  class: 4,
  variant: `security_opt ${value}`,
  tool: 'docker_create_container',
  args: create({ security_opt: [value] }),
  expect: priv([['security_opt', 'security option']]),
});
const cap = (value: string, shown: string): Row => ({
  class: 4,
  variant: `cap_add ${value}`,
  tool: 'docker_create_container',
  args: create({ cap_add: [value] }),
  expect: priv([[shown, shown.toLowerCase(), `CAP_${shown}`]]),
});
/** Exec and copy-to into a hostile fixture; the refusal names what is wrong with it. */
const target = (
  fx: FixtureKey,
  what: string,
  why: string[],
  setting: Setting | Setting[] = 'privileged',
): Row[] => [
  {
    class: 5,
    variant: `exec into a ${what} container made outside the server`,
    tool: 'docker_exec_command',
    args: { container_id: `{fx.${fx}}`, command: ['true'] },
    expect: { refused: P, names: [why], setting },
  },
  {
    class: 5,
    variant: `copy into a ${what} container made outside the server`,
    tool: 'docker_copy_to_container',
    args: { container_id: `{fx.${fx}}`, path: '/tmp/mcpt-sec', content: 'x' },
    expect: { refused: P, names: [why], setting },
  },
];
/**
 * 200 log lines a backtracking matcher chokes on: JavaScriptCore gives up on one such line after ~0.5 s, so
 * a server matching them in its event loop stalls for minutes.
 */
const HOSTILE_LINES = (line: string) =>
  `i=0; while [ $i -lt 200 ]; do echo ${line}; i=$((i+1)); done; sleep 3600`;
const SWAP = (dir: string, to: string): Step[] => [{ symlink: dir, to }];

export const REFUSALS: Row[] = [
  // 1. Volume driver options: kernel filesystems, block devices, overlay spellings, bind volumes.
  volume('local volume type=proc', { type: 'proc', device: 'proc' }),
  volume('local volume type=sysfs', { type: 'sysfs', device: 'sysfs' }),
  volume('local volume type=devtmpfs', { type: 'devtmpfs', device: 'devtmpfs' }),
  volume('local volume type=debugfs', { type: 'debugfs', device: 'debugfs' }),
  // The local driver's keys are lower case: TYPE is no option of it, refused as a mistake.
  {
    ...volume('local volume TYPE=PROC (case)', { TYPE: 'PROC', device: 'proc' }),
    expect: { refused: 'invalid_argument', names: [['driver_opts'], ['TYPE']] },
  },
  volume('overlay lowerdir=/', {
    type: 'overlay',
    device: 'overlay',
    o: 'lowerdir=/,upperdir={tmp}/u,workdir={tmp}/w',
  }),
  volume('overlay lowerdir=/etc after another option', {
    type: 'overlay',
    device: 'overlay',
    o: 'ro,lowerdir=/etc',
  }),
  volume('overlay lowerdir list /usr:/etc', {
    type: 'overlay',
    device: 'overlay',
    o: 'lowerdir={tmp}:/usr:/etc',
  }),
  volume('overlay lowerdir=//', { type: 'overlay', device: 'overlay', o: 'lowerdir=//' }),
  volume('overlay lowerdir+=/ (appended layer)', { type: 'overlay', device: 'overlay', o: 'lowerdir+=/' }),
  volume('overlay lowerdir=/tmp/.. (dot-dot)', { type: 'overlay', device: 'overlay', o: 'lowerdir=/tmp/..' }),
  volume('overlay with spaces around =', { type: 'overlay', device: 'overlay', o: 'lowerdir = /' }),
  volume('bind volume o=bind device=/etc', { type: 'none', o: 'bind', device: '/etc' }, 'allowlist'),
  volume(
    'bind volume o=rbind,ro device=/usr/bin',
    { type: 'none', o: 'rbind,ro', device: '/usr/bin' },
    'allowlist',
  ),
  volume('bind volume device=/etc/../etc', { type: 'none', o: 'bind', device: '/etc/../etc' }, 'allowlist'),
  {
    ...volume(
      'bind volume device through a /tmp symlink to /etc',
      { type: 'none', o: 'bind', device: '{tmp}/{name}' },
      'allowlist',
    ),
    before: [{ mkdir: '{tmp}/{name}' }, ...SWAP('{tmp}/{name}', '/etc')],
    expect: path([['{tmp}/{name}', '/etc']]),
  },
  volume('block device ext4 /dev/sda', { type: 'ext4', device: '/dev/sda' }),
  volume('block device xfs /dev/vda1', { type: 'xfs', device: '/dev/vda1' }),
  volume('block device, no type', { device: '/dev/loop0' }),
  {
    class: 1,
    variant: 'proc volume made through the raw API, used by create',
    tool: 'docker_create_container',
    before: [{ volume: '{name}-v', driverOpts: { type: 'proc', device: 'proc' } }],
    args: create({ volumes: ['{name}-v:/p'] }),
    expect: { refused: P, names: ['{name}-v'] },
  },
  {
    class: 1,
    variant: 'bind volume of /etc made through the raw API, used by run',
    tool: 'docker_run_container',
    before: [{ volume: '{name}-v', driverOpts: { type: 'none', o: 'bind', device: '/etc' } }],
    args: create({ volumes: ['{name}-v:/e:ro'], command: 'true' }),
    expect: { refused: P, names: ['{name}-v'] },
  },
  {
    class: 1,
    variant: 'bind volume checked at create, its device swapped to a symlink to /etc before use',
    tool: 'docker_create_container',
    before: [
      { mkdir: '{tmp}/{name}' },
      {
        call: 'docker_create_volume',
        args: { name: '{name}-v', driver_opts: { type: 'none', o: 'bind', device: '{tmp}/{name}' } },
      },
      ...SWAP('{tmp}/{name}', '/etc'),
    ],
    args: create({ volumes: ['{name}-v:/e:ro'] }),
    expect: { refused: P, names: [['{name}-v', '{tmp}/{name}', '/etc']] },
  },

  // 2. Time of check vs time of use: a plain directory at create, a symlink at start/restart/unpause.
  {
    class: 2,
    variant:
      'bind volume and its container made through our tools, device swapped to a symlink to /etc, then start',
    tool: 'docker_start_container',
    before: [
      { mkdir: '{tmp}/{name}' },
      {
        call: 'docker_create_volume',
        args: { name: '{name}-v', driver_opts: { type: 'none', o: 'bind', device: '{tmp}/{name}' } },
      },
      { call: 'docker_create_container', args: create({ name: '{name}-c', volumes: ['{name}-v:/d:ro'] }) },
      ...SWAP('{tmp}/{name}', '/etc'),
    ],
    args: { container_id: '{name}-c' },
    expect: { refused: P, names: [['{name}-v', '{tmp}/{name}', '/etc']] },
  },
  {
    class: 2,
    variant: 'bind dir made by our create, replaced by a symlink to /etc, then start',
    tool: 'docker_start_container',
    before: [
      { mkdir: '{tmp}/{name}' },
      {
        call: 'docker_create_container',
        args: create({ name: '{name}-c', volumes: ['{tmp}/{name}:/d:ro'] }),
      },
      ...SWAP('{tmp}/{name}', '/etc'),
    ],
    args: { container_id: '{name}-c' },
    expect: path([['{tmp}/{name}', '/etc']]),
  },
  {
    class: 2,
    variant: 'bind dir in a raw-API container, replaced by a symlink to /usr/bin, then start',
    tool: 'docker_start_container',
    before: [
      { mkdir: '{tmp}/{name}' },
      { container: '{name}-c', hostConfig: { Binds: ['{tmp}/{name}:/d:ro'] } },
      ...SWAP('{tmp}/{name}', '/usr/bin'),
    ],
    args: { container_id: '{name}-c' },
    expect: path([['{tmp}/{name}', '/usr/bin']]),
  },
  {
    class: 2,
    variant: 'an ancestor of the bind source replaced by a symlink to /, then start',
    tool: 'docker_start_container',
    before: [
      { mkdir: '{tmp}/{name}' },
      { mkdir: '{tmp}/{name}/etc' },
      { container: '{name}-c', hostConfig: { Binds: ['{tmp}/{name}/etc:/d:ro'] } },
      ...SWAP('{tmp}/{name}', '/'),
    ],
    args: { container_id: '{name}-c' },
    expect: path([['{tmp}/{name}', '/etc']]),
  },
  {
    class: 2,
    variant: 'running container whose bind dir became a symlink to /etc, then restart',
    tool: 'docker_restart_container',
    before: [
      { mkdir: '{tmp}/{name}' },
      { container: '{name}-c', hostConfig: { Binds: ['{tmp}/{name}:/d:ro'] }, start: true },
      ...SWAP('{tmp}/{name}', '/etc'),
    ],
    args: { container_id: '{name}-c' },
    expect: path([['{tmp}/{name}', '/etc']]),
  },
  {
    class: 2,
    variant: 'paused container whose bind dir became a symlink to /etc, then unpause',
    tool: 'docker_unpause_container',
    before: [
      { mkdir: '{tmp}/{name}' },
      { container: '{name}-c', hostConfig: { Binds: ['{tmp}/{name}:/d:ro'] }, start: true, pause: true },
      ...SWAP('{tmp}/{name}', '/etc'),
    ],
    args: { container_id: '{name}-c' },
    expect: path([['{tmp}/{name}', '/etc']]),
  },
  // A container that can write a directory can swap anything inside it for a symlink, between our
  // check and any later mount the engine makes by itself (a restart policy): no bind may nest in one.
  {
    class: 2,
    variant: 'a bind source inside a directory a container made through our tools can write',
    tool: 'docker_run_container',
    before: [
      { mkdir: '{tmp}/{name}' },
      { mkdir: '{tmp}/{name}/d' },
      { call: 'docker_create_container', args: create({ name: '{name}-w', volumes: ['{tmp}/{name}:/ws'] }) },
    ],
    args: create({ volumes: ['{tmp}/{name}/d:/mnt:ro'], restart_policy: 'on-failure', command: 'true' }),
    expect: { refused: P, names: ['{tmp}/{name}/d', '{name}-w', 'can write'] },
  },
  {
    class: 2,
    variant: "a writable bind holding another container's bind source",
    tool: 'docker_create_container',
    before: [
      { mkdir: '{tmp}/{name}' },
      { mkdir: '{tmp}/{name}/d' },
      { container: '{name}-r', hostConfig: { Binds: ['{tmp}/{name}/d:/d:ro'] } },
    ],
    args: create({ volumes: ['{tmp}/{name}:/ws'] }),
    expect: { refused: P, names: ['{tmp}/{name}', '{name}-r', 'holds'] },
  },
  {
    class: 2,
    variant: "compose: one service's writable project dir holding another service's bind",
    tool: 'docker_compose_up',
    before: [{ mkdir: '{tmp}/{name}' }, { mkdir: '{tmp}/{name}/data' }],
    args: {
      project_name: '{name}',
      project_dir: '{tmp}/{name}',
      content:
        'services:\n  app:\n    image: {image}\n    volumes: ["./:/app"]\n  db:\n    image: {image}\n    volumes: ["./data:/data:ro"]\n',
    },
    expect: { refused: P, names: ['"db"', '{tmp}/{name}/data', '"app"'] },
  },

  // 3. Sensitive host paths: system binaries and libraries, the engine's own dirs, credentials.
  ...bind('/etc', '/etc'),
  ...bind('/usr/bin', '/usr/bin'),
  ...bind('/lib', '/lib'),
  ...bind('/usr/lib', '/usr/lib'),
  ...bind('/sbin', '/sbin'),
  ...bind('/opt', '/opt (outside the allowed roots)'),
  ...bind('/', 'the root'),
  ...bind('{dataRoot}', "the engine's data root"),
  ...bind('{execRoot}', "the engine's exec root"),
  ...bind('{containerdSocket}', "the engine's containerd socket"),
  ...bind('{dockerSocket}', 'the engine socket'),
  ...bind('{home}/.ssh', '~/.ssh'),
  ...bind('{home}/.docker', '~/.docker'),
  ...bind('{home}', 'the home itself (parent of its dot-directories)'),
  {
    class: 3,
    variant: '/usr/../etc (dot-dot spelling)',
    tool: 'docker_create_container',
    args: create({ volumes: ['/usr/../etc:/h:ro'] }),
    expect: path([['/etc', '/usr/../etc']]),
  },
  {
    class: 3,
    variant: '/tmp/../etc (dot-dot out of an allowed root)',
    tool: 'docker_create_container',
    args: create({ volumes: ['/tmp/../etc:/h:ro'] }),
    expect: path([['/etc', '/tmp/../etc']]),
  },
  {
    class: 3,
    variant: 'a symlink under /tmp to /etc at create',
    tool: 'docker_create_container',
    before: [{ mkdir: '{tmp}/{name}' }, ...SWAP('{tmp}/{name}', '/etc')],
    args: create({ volumes: ['{tmp}/{name}:/h:ro'] }),
    expect: path([['{tmp}/{name}', '/etc']]),
  },
  {
    class: 3,
    variant: "the engine's data root under an allowlisted parent",
    profile: 'engine-parent-allowed',
    tool: 'docker_create_container',
    args: create({ volumes: ['{dataRoot}:/h:ro'] }),
    expect: path(['{dataRoot}']),
  },
  {
    class: 3,
    variant: 'build context /etc',
    tool: 'docker_build_image',
    args: { path: '/etc', tag: '{name}:latest' },
    expect: path(['/etc']),
  },
  {
    class: 3,
    variant: "build context the engine's data root",
    tool: 'docker_build_image',
    args: { path: '{dataRoot}', tag: '{name}:latest' },
    expect: path(['{dataRoot}']),
  },
  {
    class: 3,
    variant: 'build context ~/.ssh',
    tool: 'docker_build_image',
    args: { path: '{home}/.ssh', tag: '{name}:latest' },
    expect: path(['{home}/.ssh']),
  },
  {
    class: 3,
    variant: 'a Dockerfile outside the build context (../ up to /etc/shadow)',
    tool: 'docker_build_image',
    before: [{ mkdir: '{tmp}/{name}' }, { write: '{tmp}/{name}/Dockerfile', content: 'FROM {image}\n' }],
    args: { path: '{tmp}/{name}', dockerfile: '../../../../../../etc/shadow', tag: '{name}:latest' },
    expect: { refused: [P, 'invalid_argument'], names: [['dockerfile', '/etc/shadow']] },
  },
  {
    class: 3,
    variant: 'image load from /etc/passwd',
    tool: 'docker_load_image',
    args: { path: '/etc/passwd' },
    expect: path(['/etc/passwd']),
  },
  // Read-only tools (the safe tier) still have their host paths checked: they read Compose files.
  {
    class: 3,
    variant: 'compose config of project directory /etc (a read-only tool)',
    tool: 'docker_compose_config',
    args: { project_dir: '/etc' },
    expect: path(['project_dir', '/etc']),
  },
  {
    class: 3,
    variant: 'compose ps reading /etc/passwd as its Compose file (a read-only tool)',
    tool: 'docker_compose_ps',
    args: { project_name: '{name}', files: ['/etc/passwd'] },
    expect: path(['files[0]', '/etc/passwd']),
  },
  {
    class: 3,
    variant: 'compose logs of project directory ~/.ssh (a read-only tool)',
    tool: 'docker_compose_logs',
    args: { project_dir: '{home}/.ssh' },
    expect: path(['project_dir', '.ssh']),
  },

  // 4. security_opt that loosens, capabilities outside the default set, privileged, devices, host namespaces.
  secOpt('seccomp=unconfined'),
  secOpt('seccomp:unconfined'),
  secOpt('SECCOMP=UNCONFINED'),
  secOpt('seccomp={"defaultAction":"SCMP_ACT_ALLOW"}'),
  secOpt('seccomp=/etc/docker/seccomp.json'),
  secOpt('apparmor=unconfined'),
  secOpt('apparmor:unconfined'),
  secOpt('apparmor=my-own-profile'),
  secOpt('label=disable'),
  secOpt('label:disable'),
  secOpt('label=type:spc_t'),
  secOpt('label=type:container_runtime_t'),
  secOpt('systempaths=unconfined'),
  secOpt('no-new-privileges=false'),
  secOpt('no-new-privileges:false'),
  cap('SYS_ADMIN', 'SYS_ADMIN'),
  cap('sys_module', 'SYS_MODULE'),
  cap('CAP_BPF', 'BPF'),
  cap('ALL', 'ALL'),
  cap('all', 'ALL'),
  cap('NET_ADMIN', 'NET_ADMIN'),
  cap('SYS_PTRACE', 'SYS_PTRACE'),
  cap('DAC_READ_SEARCH', 'DAC_READ_SEARCH'),
  cap('LINUX_IMMUTABLE', 'LINUX_IMMUTABLE'),
  cap('SYS_RESOURCE', 'SYS_RESOURCE'),
  cap('IPC_LOCK', 'IPC_LOCK'),
  cap('AUDIT_CONTROL', 'AUDIT_CONTROL'),
  cap('CAP_SYS_NICE', 'SYS_NICE'),
  cap('PERFMON', 'PERFMON'),
  cap('CHECKPOINT_RESTORE', 'CHECKPOINT_RESTORE'),
  {
    class: 4,
    variant: 'privileged: true',
    tool: 'docker_create_container',
    args: create({ privileged: true }),
    expect: priv(['privileged']),
  },
  {
    class: 4,
    variant: 'devices /dev/sda',
    tool: 'docker_create_container',
    args: create({ devices: ['/dev/sda'] }),
    expect: priv(['devices']),
  },
  {
    class: 4,
    variant: 'devices /dev/mem:/dev/mem:rwm',
    tool: 'docker_create_container',
    args: create({ devices: ['/dev/mem:/dev/mem:rwm'] }),
    expect: priv(['devices']),
  },
  {
    class: 4,
    variant: 'pid_mode host',
    tool: 'docker_create_container',
    args: create({ pid_mode: 'host' }),
    expect: priv([['pid_mode', 'PidMode']]),
  },
  {
    class: 4,
    variant: 'network_mode host',
    tool: 'docker_create_container',
    args: create({ network_mode: 'host' }),
    expect: priv([['network_mode', 'NetworkMode']]),
  },
  {
    class: 4,
    variant: 'network_mode host through run',
    tool: 'docker_run_container',
    args: create({ network_mode: 'host', command: 'true' }),
    expect: priv([['network_mode', 'NetworkMode']]),
  },
  // Compose's networks on create and run (issue 15): 'host' among them is the host's namespace too.
  {
    class: 4,
    variant: 'networks [host]',
    tool: 'docker_create_container',
    args: create({ networks: ['host'] }),
    expect: priv([['networks', 'EndpointsConfig']]),
  },
  {
    class: 4,
    variant: 'networks {bridge, host} through run',
    tool: 'docker_run_container',
    args: create({ networks: { bridge: {}, host: {} }, command: 'true' }),
    expect: priv([['networks', 'EndpointsConfig']]),
  },
  {
    class: 4,
    variant: 'ipc_mode host',
    tool: 'docker_create_container',
    args: create({ ipc_mode: 'host' }),
    expect: priv([['ipc_mode', 'IpcMode']]),
  },
  {
    class: 4,
    variant: 'userns_mode host',
    tool: 'docker_create_container',
    args: create({ userns_mode: 'host' }),
    expect: priv([['userns_mode', 'UsernsMode']]),
  },
  {
    class: 4,
    variant: 'pid_mode HOST (case)',
    tool: 'docker_create_container',
    args: create({ pid_mode: 'HOST' }),
    expect: priv([['pid_mode', 'PidMode']]),
  },
  {
    class: 4,
    variant: 'exec with privileged: true',
    tool: 'docker_exec_command',
    args: { container_id: '{fx.plain}', command: ['true'], privileged: true },
    expect: priv(['privileged']),
  },

  {
    class: 4,
    variant: 'a macvlan network on a host interface',
    tool: 'docker_create_network',
    args: { name: '{name}', driver: 'macvlan', options: { parent: 'lo' } },
    expect: priv(['macvlan']),
  },
  {
    class: 4,
    variant: 'compose runtime outside the confining ones',
    tool: 'docker_compose_up',
    args: {
      project_name: '{name}',
      content: 'services:\n  a:\n    image: {image}\n    network_mode: none\n    runtime: nvidia\n',
    },
    expect: priv([['runtime', 'nvidia']]),
  },
  {
    class: 4,
    variant: 'compose cgroup_parent at the cgroup root',
    tool: 'docker_compose_up',
    args: {
      project_name: '{name}',
      content: 'services:\n  a:\n    image: {image}\n    network_mode: none\n    cgroup_parent: /\n',
    },
    expect: priv(['cgroup_parent']),
  },
  {
    class: 1,
    variant: 'compose volume of type proc beside two project networks: nothing is made',
    tool: 'docker_compose_up',
    args: {
      project_name: '{name}',
      content:
        'services:\n  a:\n    image: {image}\n    networks: [n1, n2]\n    volumes: ["v:/v"]\nnetworks:\n  n1: {}\n  n2: {}\nvolumes:\n  v:\n    driver_opts: {type: proc, device: proc}\n',
    },
    expect: priv([['proc']]),
  },
  {
    class: 4,
    variant: 'a bridge network that names a host bridge',
    tool: 'docker_create_network',
    args: { name: '{name}', options: { 'com.docker.network.bridge.name': 'mcpsec0' } },
    expect: priv(['com.docker.network.bridge.name']),
  },
  {
    class: 4,
    variant: 'compose network that names a host bridge, beside a plain one: nothing is made',
    tool: 'docker_compose_up',
    args: {
      project_name: '{name}',
      content:
        'services:\n  a:\n    image: {image}\n    networks: [n1, n2]\nnetworks:\n  n1: {}\n  n2:\n    driver_opts: {com.docker.network.bridge.name: mcpsec1}\n',
    },
    expect: priv(['"n2"', 'com.docker.network.bridge.name']),
  },
  // A subnet is a route on the engine's host. Public documentation ranges here: were a regression to let
  // one through, it would route addresses nobody uses (overlaps with the host are in the e2e suite, on
  // a stand-in engine that makes nothing).
  {
    class: 4,
    variant: "a bridge network on a public subnet (its route would take the host's traffic for it)",
    tool: 'docker_create_network',
    args: { name: '{name}', subnet: '198.51.100.0/24', gateway: '198.51.100.1', internal: true },
    expect: priv(['subnet', '198.51.100.0/24', 'private range']),
  },
  {
    class: 4,
    variant: 'compose network with a public ipam subnet, beside a plain one: nothing is made',
    tool: 'docker_compose_up',
    args: {
      project_name: '{name}',
      content:
        'services:\n  a:\n    image: {image}\n    networks: [n1, n2]\nnetworks:\n  n1: {}\n  n2:\n    ipam:\n      config:\n        - subnet: 203.0.113.0/24\n',
    },
    expect: priv(['"n2"', 'ipam.config[0].subnet', 'private range']),
  },

  // 5. Other containers: joining host-sharing namespaces; acting on hostile containers made outside.
  {
    class: 5,
    variant: 'pid_mode container: joining a host-PID container',
    tool: 'docker_create_container',
    args: create({ pid_mode: 'container:{fx.hostns}' }),
    expect: priv([['pid_mode', '{fx.hostns}']]),
  },
  {
    class: 5,
    variant: 'ipc_mode container: joining a host-IPC container',
    tool: 'docker_create_container',
    args: create({ ipc_mode: 'container:{fx.hostns}' }),
    expect: priv([['ipc_mode', '{fx.hostns}']]),
  },
  {
    class: 5,
    variant: 'network_mode container: joining a host-network container',
    tool: 'docker_create_container',
    args: create({ network_mode: 'container:{fx.hostnet}' }),
    expect: priv([['network_mode', '{fx.hostnet}']]),
  },
  {
    class: 5,
    variant: 'pid_mode container: joining a privileged container',
    tool: 'docker_create_container',
    args: create({ pid_mode: 'container:{fx.priv}' }),
    expect: priv([['pid_mode', '{fx.priv}']]),
  },
  ...target('priv', 'privileged', ['privileged']),
  ...target('hostns', 'host-namespace', ['PidMode', 'pid_mode', 'PID', 'pid']),
  ...target('sock', 'socket-mounting', ['{dockerSocket}', 'socket'], ['allowlist', 'privileged']),
  ...target('sysadmin', 'SYS_ADMIN', ['SYS_ADMIN']),
  ...target('unconfined', 'seccomp-unconfined', ['seccomp']),
  ...target('etcbindRunning', '/etc-binding', ['/etc'], ['allowlist', 'privileged']),
  {
    class: 5,
    variant: 'copy from a container made outside that binds /etc, never started',
    tool: 'docker_copy_from_container',
    args: { container_id: '{fx.etcbind}', path: '/host-etc/hostname' },
    expect: path(['/etc']),
  },
  {
    class: 5,
    variant: 'a restart policy given by update to a privileged container made outside',
    tool: 'docker_update_container',
    args: { container_id: '{fx.priv}', restart_policy: 'always' },
    expect: priv(['privileged']),
  },
  {
    class: 5,
    variant: 'start a raw-API container that mounts a raw-API proc volume',
    tool: 'docker_start_container',
    before: [
      { volume: '{name}-v', driverOpts: { type: 'proc', device: 'proc' } },
      { container: '{name}-c', hostConfig: { Binds: ['{name}-v:/p:ro'] } },
    ],
    args: { container_id: '{name}-c' },
    expect: { refused: P, names: [['{name}-v', 'proc']] },
  },
  {
    class: 5,
    variant: 'compose volumes_from a raw-API container that binds /etc',
    tool: 'docker_compose_up',
    args: {
      project_name: '{name}',
      content: 'services:\n  a:\n    image: {image}\n    volumes_from: ["container:{fx.etcbind}:ro"]\n',
    },
    expect: path(['volumes_from', '/etc']),
  },
  {
    class: 5,
    variant: "compose network whose name walks its connect to a privileged container's start",
    tool: 'docker_compose_up',
    before: [{ container: '{name}-c', hostConfig: { Privileged: true } }],
    args: {
      project_name: '{name}',
      content:
        'services:\n  a:\n    image: {image}\n    networks: [one, two]\nnetworks:\n  one: {}\n  two:\n    name: "x/../../containers/{name}-c/start#"\n',
    },
    expect: { refused: 'invalid_argument', names: ['"two"', 'x/../../containers/{name}-c/start#'] },
  },
  {
    class: 5,
    variant: "compose volumes_from whose reference walks the policy's lookup to another container",
    tool: 'docker_compose_up',
    args: {
      project_name: '{name}',
      content:
        'services:\n  a:\n    image: {image}\n    volumes_from: ["container:a/../../containers/{fx.plain}"]\n',
    },
    expect: { refused: 'invalid_argument', names: ['volumes_from', 'a/../../containers/{fx.plain}'] },
  },
  {
    class: 5,
    variant: 'compose image whose reference walks its inspect to the container list',
    tool: 'docker_compose_up',
    args: {
      project_name: '{name}',
      content: 'services:\n  a:\n    image: "../../containers/json?all=1#"\n',
    },
    expect: { refused: 'invalid_argument', names: ['service "a"', '../../containers/json?all=1#'] },
  },
  {
    class: 5,
    variant: 'start a raw-API container that binds /etc',
    tool: 'docker_start_container',
    args: { container_id: '{fx.etcbind}' },
    expect: path(['/etc']),
  },
  {
    class: 5,
    variant: 'restart a running raw-API container that binds /etc',
    tool: 'docker_restart_container',
    args: { container_id: '{fx.etcbindRunning}' },
    expect: path(['/etc']),
  },
  {
    class: 5,
    variant: 'restart a privileged container made outside',
    tool: 'docker_restart_container',
    args: { container_id: '{fx.priv}' },
    expect: priv(['privileged']),
  },

  // 6. Host files: image save outside the allowed roots or onto an existing file. The sensitive targets sit
  // in a directory that does not exist, so a server that fails to refuse still writes nothing there.
  {
    class: 6,
    variant: 'save to /etc',
    tool: 'docker_save_image',
    args: { images: '{image}', path: '/etc/{name}/x.tar' },
    expect: path(['/etc/{name}/x.tar']),
  },
  {
    class: 6,
    variant: 'save to /usr/bin',
    tool: 'docker_save_image',
    args: { images: '{image}', path: '/usr/bin/{name}/x' },
    expect: path(['/usr/bin/{name}/x']),
  },
  {
    class: 6,
    variant: 'save into ~/.ssh',
    tool: 'docker_save_image',
    args: { images: '{image}', path: '{home}/.ssh/{name}/x.tar' },
    expect: path(['{home}/.ssh/{name}/x.tar']),
  },
  {
    class: 6,
    variant: "save into the engine's data root",
    tool: 'docker_save_image',
    args: { images: '{image}', path: '{dataRoot}/{name}/x.tar' },
    expect: path(['{dataRoot}/{name}/x.tar']),
  },
  {
    class: 6,
    variant: 'save through a /tmp directory that is a symlink to /etc',
    tool: 'docker_save_image',
    before: [{ mkdir: '{tmp}/{name}' }, ...SWAP('{tmp}/{name}', '/etc')],
    args: { images: '{image}', path: '{tmp}/{name}/{name}.tar' },
    expect: path([['{tmp}/{name}', '/etc']]),
  },
  {
    class: 6,
    variant: 'save onto an existing file without overwrite',
    tool: 'docker_save_image',
    before: [{ write: '{tmp}/{name}.tar', content: 'keep me' }],
    args: { images: '{image}', path: '{tmp}/{name}.tar' },
    expect: { refused: 'conflict', names: ['{tmp}/{name}.tar'] },
  },

  // 7. One call stops everyone: backtracking patterns, build contexts that cannot be packed.
  {
    class: 7,
    variant: 'grep /(a+)+$/ over 200 lines of 40 a and a bang',
    tool: 'docker_container_logs',
    before: [{ container: '{name}-c', cmd: ['sh', '-c', HOSTILE_LINES(`${'a'.repeat(40)}!`)], start: true }],
    args: { container_id: '{name}-c', grep: '/(a+)+$/', tail: 200 },
    expect: { answers: { ms: 10_000, errorKinds: ['invalid_argument'] } },
  },
  {
    class: 7,
    variant: 'grep /(a|a)*b/ (alternation blow-up) over 200 lines',
    tool: 'docker_container_logs',
    before: [{ container: '{name}-c', cmd: ['sh', '-c', HOSTILE_LINES('a'.repeat(40))], start: true }],
    args: { container_id: '{name}-c', grep: '/(a|a)*b/', tail: 200 },
    expect: { answers: { ms: 10_000, errorKinds: ['invalid_argument'] } },
  },
  {
    class: 7,
    variant: 'grep with a backreference /(a*)*\\1$/ over 200 lines',
    tool: 'docker_container_logs',
    before: [{ container: '{name}-c', cmd: ['sh', '-c', HOSTILE_LINES(`${'a'.repeat(40)}!`)], start: true }],
    args: { container_id: '{name}-c', grep: '/(a*)*\\1$/', tail: 200 },
    expect: { answers: { ms: 10_000, errorKinds: ['invalid_argument'] } },
  },
  {
    class: 7,
    variant: 'build context holding a FIFO',
    tool: 'docker_build_image',
    before: [
      { mkdir: '{tmp}/{name}' },
      { write: '{tmp}/{name}/Dockerfile', content: 'FROM {image}\n' },
      { fifo: '{tmp}/{name}/pipe' },
    ],
    args: { path: '{tmp}/{name}', tag: '{name}:latest' },
    expect: { answers: { ms: 20_000, errorKinds: ['invalid_argument', 'policy_denied'], mustError: true } },
  },
  {
    class: 7,
    variant: 'compose project whose .env is a FIFO',
    tool: 'docker_compose_config',
    before: [
      { mkdir: '{tmp}/{name}' },
      { write: '{tmp}/{name}/compose.yaml', content: 'services:\n  a:\n    image: {image}\n' },
      { fifo: '{tmp}/{name}/.env' },
    ],
    args: { project_dir: '{tmp}/{name}' },
    expect: { answers: { ms: 5_000, errorKinds: ['invalid_argument'], mustError: true } },
  },
  {
    class: 7,
    variant: 'compose project whose .env has 60,000 lines',
    tool: 'docker_compose_config',
    before: [
      { mkdir: '{tmp}/{name}' },
      { write: '{tmp}/{name}/compose.yaml', content: 'services:\n  a:\n    image: {image}\n' },
      { write: '{tmp}/{name}/.env', content: Array.from({ length: 60_000 }, (_, i) => `V${i}=x\n`).join('') },
    ],
    args: { project_dir: '{tmp}/{name}' },
    expect: { answers: { ms: 5_000, errorKinds: [] } },
  },
  {
    class: 7,
    variant: 'compose value with interpolation nested 20,000 deep',
    tool: 'docker_compose_config',
    args: {
      project_name: '{name}',
      content: `services:\n  a:\n    image: {image}\n    environment:\n      X: "${'${A:-'.repeat(20_000)}x${'}'.repeat(20_000)}"\n`,
    },
    expect: { answers: { ms: 5_000, errorKinds: ['invalid_argument'], mustError: true } },
  },
  {
    class: 7,
    variant: 'build context holding a file name that is not UTF-8',
    tool: 'docker_build_image',
    before: [
      { mkdir: '{tmp}/{name}' },
      { write: '{tmp}/{name}/Dockerfile', content: 'FROM {image}\n' },
      { oddName: '{tmp}/{name}' },
    ],
    args: { path: '{tmp}/{name}', tag: '{name}:latest' },
    expect: { answers: { ms: 20_000, errorKinds: ['invalid_argument', 'policy_denied'], mustError: true } },
  },
  {
    class: 7,
    variant: 'run with wait over a 256 MiB flood of 1 MiB lines',
    tool: 'docker_run_container',
    args: {
      image: '{image}',
      name: '{name}',
      wait: true,
      remove: true,
      timeout: 150,
      // 256 lines of 1 MiB: a tail counted in lines is no bound when lines are this long.
      command: [
        'sh',
        '-c',
        'i=0; while [ $i -lt 256 ]; do head -c 1048576 /dev/zero | tr "\\0" a; echo; i=$((i+1)); done',
      ],
    },
    expect: { peakGrowthMiB: 128 },
  },

  // 8. Redaction: secret words inside one-word names; values with spaces and ';'.
  ...(
    [
      ['PGPASSWORD', 'pg-s3cr3t-value'],
      ['CLIENTSECRET', 'client-s3cr3t-value'],
      ['APITOKEN', 'api-t0ken-value'],
      ['GITHUB_PAT', 'ghp_pat0value0000'],
      ['DB_PASSWORD', 'tw0-w0rds h3re-x'],
      ['SESSION_SECRET', 'semi;c0lon;v4lue'],
    ] as const
  ).map(
    ([name, value]): Row => ({
      class: 8,
      variant: `inspect masks ${name}=${value}`,
      tool: 'docker_inspect_container',
      before: [{ container: '{name}-c', env: [`${name}=${value}`, 'AUTHOR=visible-author'] }],
      args: { container_id: '{name}-c' },
      expect: {
        masks: [value, ...value.split(/[ ;]/).filter((p) => p.length > 3)],
        shows: [name, 'visible-author'],
      },
    }),
  ),

  // 9. Destructive through moderate tools.
  {
    class: 9,
    variant: 'tag onto an existing tag of another image, without force',
    tool: 'docker_tag_image',
    args: { image: '{fx.imageB}', repository: '{fx.tagA}', tag: 'latest' },
    expect: { refused: 'conflict', names: ['{fx.tagA}'] },
  },
  {
    // As save's `overwrite`: the argument that moves the tag escalates the call to destructive.
    class: 9,
    variant: 'tag onto an existing tag of another image, with force',
    tool: 'docker_tag_image',
    args: { image: '{fx.imageB}', repository: '{fx.tagA}', tag: 'latest', force: true },
    expect: { refused: P, names: ['force'], setting: 'destructive' },
  },
  {
    class: 9,
    variant: 'save with overwrite onto an existing file',
    tool: 'docker_save_image',
    before: [{ write: '{tmp}/{name}.tar', content: 'keep me' }],
    args: { images: '{image}', path: '{tmp}/{name}.tar', overwrite: true },
    expect: { refused: P, names: ['overwrite'], setting: 'destructive' },
  },
];

/** What must keep working: each call must succeed (and `next`, when given, too). */
export interface LegitRow {
  variant: string;
  tool: string;
  args: Args;
  before?: Step[];
  next?: { tool: string; args: Args }[];
  profile?: Profile;
}

export const LEGITIMATE: LegitRow[] = [
  {
    variant: 'bind of a project directory under ~',
    tool: 'docker_create_container',
    before: [{ mkdir: '{proj}/{name}' }],
    args: create({ volumes: ['{proj}/{name}:/src'] }),
    next: [{ tool: 'docker_start_container', args: { container_id: '{name}' } }],
  },
  {
    variant: 'bind of a project directory under /tmp',
    tool: 'docker_create_container',
    before: [{ mkdir: '{tmp}/{name}' }],
    args: create({ volumes: ['{tmp}/{name}:/src:ro'] }),
    next: [
      { tool: 'docker_start_container', args: { container_id: '{name}' } },
      { tool: 'docker_restart_container', args: { container_id: '{name}' } },
    ],
  },
  {
    variant: 'run with a bind under /tmp',
    tool: 'docker_run_container',
    before: [{ mkdir: '{tmp}/{name}' }],
    args: create({ volumes: ['{tmp}/{name}:/src'], command: ['sh', '-c', 'echo ok > /src/out'], wait: true }),
  },
  {
    variant: 'a named volume',
    tool: 'docker_create_volume',
    args: { name: '{name}-v' },
    next: [
      { tool: 'docker_create_container', args: create({ volumes: ['{name}-v:/data'] }) },
      { tool: 'docker_start_container', args: { container_id: '{name}' } },
    ],
  },
  {
    variant: 'a tmpfs volume',
    tool: 'docker_create_volume',
    args: { name: '{name}-v', driver_opts: { type: 'tmpfs', device: 'tmpfs', o: 'size=1m' } },
    next: [
      { tool: 'docker_create_container', args: create({ volumes: ['{name}-v:/data'] }) },
      { tool: 'docker_start_container', args: { container_id: '{name}' } },
    ],
  },
  {
    variant: 'a bind volume under /tmp',
    tool: 'docker_create_volume',
    before: [{ mkdir: '{tmp}/{name}' }],
    args: { name: '{name}-v', driver_opts: { type: 'none', o: 'bind', device: '{tmp}/{name}' } },
    next: [
      { tool: 'docker_create_container', args: create({ volumes: ['{name}-v:/data'] }) },
      { tool: 'docker_start_container', args: { container_id: '{name}' } },
    ],
  },
  {
    variant: 'a build from a directory under ~',
    tool: 'docker_build_image',
    before: [
      { mkdir: '{proj}/{name}' },
      { write: '{proj}/{name}/Dockerfile', content: 'FROM {image}\nLABEL mcpt.security=1\n' },
    ],
    args: { path: '{proj}/{name}', tag: '{name}:latest' },
  },
  {
    variant: 'a save to a new file under /tmp',
    tool: 'docker_save_image',
    args: { images: '{image}', path: '{tmp}/{name}.tar' },
  },
  {
    variant: 'a save to a new file under ~',
    tool: 'docker_save_image',
    before: [{ mkdir: '{proj}/{name}' }],
    args: { images: '{image}', path: '{proj}/{name}/image.tar' },
  },
  {
    variant: 'exec into a plain container',
    tool: 'docker_exec_command',
    args: { container_id: '{fx.plain}', command: ['true'] },
  },
  {
    variant: 'copy into a plain container',
    tool: 'docker_copy_to_container',
    args: { container_id: '{fx.plain}', path: '/tmp/{name}', content: 'hello' },
  },
  {
    variant: 'cap_add NET_BIND_SERVICE (default set)',
    tool: 'docker_create_container',
    args: create({ cap_add: ['NET_BIND_SERVICE'] }),
    next: [{ tool: 'docker_start_container', args: { container_id: '{name}' } }],
  },
  {
    variant: 'cap_add CAP_CHOWN (default set)',
    tool: 'docker_create_container',
    args: create({ cap_add: ['CAP_CHOWN'] }),
  },
  { variant: 'cap_drop ALL', tool: 'docker_create_container', args: create({ cap_drop: ['ALL'] }) },
  {
    variant: 'security_opt no-new-privileges:true',
    tool: 'docker_create_container',
    args: create({ security_opt: ['no-new-privileges:true'] }),
    next: [{ tool: 'docker_start_container', args: { container_id: '{name}' } }],
  },
  {
    variant: 'security_opt no-new-privileges=true',
    tool: 'docker_create_container',
    args: create({ security_opt: ['no-new-privileges=true'] }),
  },
  {
    variant: 'network_mode container: joining a plain container',
    tool: 'docker_create_container',
    args: create({ network_mode: 'container:{fx.plain}' }),
  },
  {
    variant: 'grep plain text',
    tool: 'docker_container_logs',
    before: [{ container: '{name}-c', cmd: ['sh', '-c', 'echo hello-grep; sleep 3600'], start: true }],
    args: { container_id: '{name}-c', grep: 'hello' },
  },
  {
    variant: 'grep a linear regex',
    tool: 'docker_container_logs',
    before: [{ container: '{name}-c', cmd: ['sh', '-c', 'echo hello-grep; sleep 3600'], start: true }],
    args: { container_id: '{name}-c', grep: '/^hel+o-gr[e]p$/i' },
  },
  {
    variant: 'tag onto a new tag',
    tool: 'docker_tag_image',
    args: { image: '{image}', repository: '{name}', tag: 'v1' },
  },
  {
    variant: 'tag move with the destructive tier',
    profile: 'destructive',
    tool: 'docker_tag_image',
    before: [{ call: 'docker_tag_image', args: { image: '{image}', repository: '{name}', tag: 'latest' } }],
    args: { image: '{fx.imageB}', repository: '{name}', tag: 'latest', force: true },
  },
  {
    variant: 'save overwrite with the destructive tier',
    profile: 'destructive',
    tool: 'docker_save_image',
    before: [{ write: '{tmp}/{name}.tar', content: 'old' }],
    args: { images: '{image}', path: '{tmp}/{name}.tar', overwrite: true },
  },
  {
    variant: 'cap_add SYS_ADMIN with SAFETY_ALLOW_PRIVILEGED_CONTAINERS',
    profile: 'privileged',
    tool: 'docker_create_container',
    args: create({ cap_add: ['SYS_ADMIN'] }),
  },
];

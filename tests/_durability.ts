/**
 * What the durability tests share: a run of bulkget traced by strace (its
 * syscalls, one line each, in the order they returned), and the power-cut
 * simulation (an ext4 image on a loop device, copied while bulkget is
 * stopped, without `sync`).
 *
 * @module
 */

import { MAIN } from "./_helpers.ts";

/** Whether `program --version` runs here. */
export async function hasProgram(program: string): Promise<boolean> {
  try {
    const { success } = await new Deno.Command(program, {
      args: ["--version"],
      stdout: "null",
      stderr: "null",
    }).output();
    return success;
  } catch {
    return false;
  }
}

/** Whether strace is installed. */
export const HAS_STRACE: boolean = await hasProgram("strace");

/** `skip`, after saying why on stderr when it is true. */
export function ignored(skip: boolean, reason: string): boolean {
  if (skip) console.error(`durability tests: ${reason}`);
  return skip;
}

/** Runs a command; throws with its stderr when it fails. */
export async function sh(program: string, ...args: string[]): Promise<void> {
  const { success, stderr } = await new Deno.Command(program, {
    args,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!success) {
    throw new Error(
      `${program} ${args.join(" ")}: ${new TextDecoder().decode(stderr)}`,
    );
  }
}

/**
 * Runs `bulkget ARGS` (from `main.ts`) under `strace -f -y`, tracing
 * `syscalls`, with strings up to 4,096 bytes, and returns the trace's
 * lines (see {@linkcode readTrace}); throws when bulkget fails.
 *
 * @param args bulkget's arguments.
 * @param cwd Its working directory; the trace goes to `cwd/trace.txt`.
 * @param syscalls strace's `-e trace=` list.
 * @returns One line per syscall, in the order they returned.
 */
export async function straceBulkget(
  args: string[],
  cwd: string,
  syscalls: string,
): Promise<string[]> {
  const trace = `${cwd}/trace.txt`;
  const { code, stderr } = await new Deno.Command("strace", {
    args: [
      "-f",
      "-qq",
      "-y",
      "-s",
      "4096",
      "-o",
      trace,
      "-e",
      `trace=${syscalls}`,
      Deno.execPath(),
      "run",
      "--quiet",
      "--allow-all",
      MAIN,
      ...args,
    ],
    cwd,
    env: { NO_COLOR: "1" },
    stdout: "null",
    stderr: "piped",
  }).output();
  if (code !== 0) {
    throw new Error(
      `bulkget ${args.join(" ")}: exit ${code}\n${
        new TextDecoder().decode(stderr)
      }`,
    );
  }
  return readTrace(await Deno.readTextFile(trace));
}

/**
 * strace's output as one line per syscall, at the moment it returned: a
 * call another thread interrupted (`fsync(5</d> <unfinished ...>`, later
 * `<... fsync resumed>) = 0`) becomes one line (`fsync(5</d>) = 0`) in the
 * place of its "resumed" line.
 *
 * @param text What `strace -f -o FILE` wrote (lines start with the thread id).
 * @returns The lines.
 */
export function readTrace(text: string): string[] {
  const started = new Map<string, string>();
  const lines: string[] = [];
  for (const line of text.split("\n")) {
    const pid = line.slice(0, line.indexOf(" "));
    if (line.endsWith(" <unfinished ...>")) {
      started.set(pid, line.slice(0, -" <unfinished ...>".length));
      continue;
    }
    const resumed = / <\.\.\. \w+ resumed>/.exec(line);
    if (resumed && started.has(pid)) {
      lines.push(
        started.get(pid)! + line.slice(resumed.index + resumed[0].length),
      );
      started.delete(pid);
      continue;
    }
    lines.push(line);
  }
  return lines;
}

/**
 * Index of the first of `lines` from `from` that passes `test`, or -1.
 *
 * @param lines The trace.
 * @param test The condition.
 * @param from Where to start.
 * @returns The index.
 */
export function findLine(
  lines: string[],
  test: (line: string) => boolean,
  from = 0,
): number {
  for (let i = Math.max(0, from); i < lines.length; i++) {
    if (test(lines[i])) return i;
  }
  return -1;
}

/**
 * How the file at `path` differs from `bytes` ("missing", "N bytes, not the
 * right ones"), or undefined when it holds them. (A failed `deepEqual` of
 * two large byte arrays builds a diff that can take gigabytes.)
 *
 * @param path The file.
 * @param bytes What it must hold.
 * @returns The difference, if any.
 */
export async function differs(
  path: string,
  bytes: Uint8Array,
): Promise<string | undefined> {
  const found = await Deno.readFile(path).catch(() => undefined);
  if (found === undefined) return "missing";
  const same = found.length === bytes.length &&
    found.every((b, i) => b === bytes[i]);
  return same ? undefined : `${found.length} bytes, not the right ones`;
}

/**
 * Makes an ext4 image of `mib` MiB at `image` and mounts it on `dir` through
 * a loop device.
 */
export async function mountNewExt4(image: string, dir: string, mib: number) {
  await sh("truncate", "-s", `${mib}M`, image);
  await sh("mkfs.ext4", "-q", "-F", image);
  await Deno.mkdir(dir, { recursive: true });
  await sh("mount", "-o", "loop", image, dir);
}

/** Why the power-cut simulation cannot run here, or undefined when it can. */
async function noLoopExt4(): Promise<string | undefined> {
  if (Deno.build.os !== "linux") return "not Linux";
  if (Deno.uid() !== 0) return "not root (mount -o loop needs root)";
  const dir = await Deno.makeTempDir({ prefix: "bulkget-loop-probe-" });
  try {
    await mountNewExt4(`${dir}/probe.img`, `${dir}/mnt`, 8);
    await sh("umount", `${dir}/mnt`);
    return undefined;
  } catch (error) {
    return `no ext4 image on a loop device here (${
      (error as Error).message.trim().split("\n")[0]
    })`;
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** Why the power-cut simulation cannot run here, or undefined when it can. */
export const LOOP_MISSING: string | undefined = await noLoopExt4();

/** A copy of the disk, and what bulkget had reported done when it was taken. */
export interface Snapshot {
  /** The copy of the image. */
  image: string;
  /** The names reported done by then, in order. */
  done: string[];
}

/** How {@linkcode snapshotsDuring} runs bulkget and copies the disk. */
export interface SnapshotRun {
  /** The ext4 image (mounted) that bulkget writes to. */
  image: string;
  /** bulkget's arguments. */
  args: string[];
  /** A line of bulkget's stderr that reports one thing done; group 1 names it. */
  donePattern: RegExp;
  /** Copy the disk once this many things are reported done (ascending). */
  moments: number[];
}

/**
 * Runs bulkget and copies its disk image at moments: each time the count of
 * things reported done reaches the next of `moments`, bulkget is stopped
 * (SIGSTOP) while the image is copied, so the copy is one moment of the disk;
 * once more right after it exits. No `sync`: a copy holds what had reached
 * the disk, as after a power cut.
 *
 * @param run See {@linkcode SnapshotRun}.
 * @returns The copies (beside the image), the last one taken at the end.
 * @throws When bulkget exits with another code than 0.
 */
export async function snapshotsDuring(run: SnapshotRun): Promise<Snapshot[]> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "--allow-all", MAIN, ...run.args],
    env: { NO_COLOR: "1" },
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const snapshots: Snapshot[] = [];
  const done: string[] = [];
  const moments = [...run.moments];
  let text = "";
  for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
    text += chunk;
    const lines = text.split("\n");
    text = lines.pop()!;
    for (const line of lines) {
      const match = run.donePattern.exec(line);
      if (match) done.push(match[1]);
    }
    if (moments.length > 0 && done.length >= moments[0]) {
      moments.shift();
      child.kill("SIGSTOP");
      const copy = `${run.image}.at-${done.length}`;
      await sh("cp", "--sparse=always", run.image, copy);
      snapshots.push({ image: copy, done: [...done] });
      child.kill("SIGCONT");
    }
  }
  const { code } = await child.status;
  if (code !== 0) {
    throw new Error(`bulkget ${run.args.join(" ")}: exit ${code}`);
  }
  await sh("cp", "--sparse=always", run.image, `${run.image}.end`);
  snapshots.push({ image: `${run.image}.end`, done: [...done] });
  return snapshots;
}

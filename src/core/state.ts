import { chmod, link, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';

const locks = new Map<string, Promise<unknown>>();

/**
 * The local state directory: secrets bundles, talosconfig, kubeconfigs. Everything in it is
 * secret, so the directory is 0700, files are 0600, and it carries a .gitignore that ignores
 * itself. Cloud resources are never recorded here: they are found by their tags.
 */
export class StateDir {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  /** `--state-dir`, else HYBRIDCTL_STATE_DIR, else `.hybridctl/<cluster>` beside the config file. */
  static forConfig(configFile: string, cluster: string, explicit?: string): StateDir {
    return new StateDir(explicit ?? process.env.HYBRIDCTL_STATE_DIR ?? join(dirname(resolve(configFile)), '.hybridctl', cluster));
  }

  path(name: string): string {
    return join(this.root, name);
  }

  async exists(name: string): Promise<boolean> {
    try {
      await stat(this.path(name));
      return true;
    } catch {
      return false;
    }
  }

  async read(name: string): Promise<string | undefined> {
    try {
      return await readFile(this.path(name), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  /** Writes atomically (temporary file, then rename) with mode 0600. */
  async write(name: string, content: string): Promise<string> {
    const file = this.path(name);
    await this.ensureDir(dirname(file));
    const temporary = `${file}.${process.pid}.tmp`;
    await writeFile(temporary, content, { mode: 0o600 });
    await chmod(temporary, 0o600);
    await rename(temporary, file);
    return file;
  }

  /**
   * Creates a file only if there is none (0600); false when it exists. The file appears with its
   * content (a hard link of a written temporary file), so a reader never finds it empty.
   */
  async create(name: string, content: string): Promise<boolean> {
    const file = this.path(name);
    await this.ensureDir(dirname(file));
    const temporary = `${file}.${process.pid}.link.tmp`;
    await writeFile(temporary, content, { mode: 0o600 });
    try {
      await link(temporary, file);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    } finally {
      await rm(temporary, { force: true });
    }
  }

  /** Read-modify-write of one file, one at a time within this process (sites share the talosconfig). */
  async update(name: string, change: (old: string | undefined) => string | Promise<string>): Promise<string> {
    const file = this.path(name);
    const previous = locks.get(file) ?? Promise.resolve();
    const next = previous.then(async () => this.write(name, await change(await this.read(name))));
    locks.set(file, next.catch(() => undefined));
    return next;
  }

  async remove(name: string): Promise<void> {
    await rm(this.path(name), { force: true });
  }

  /** Every file in the directory, as paths relative to it (`talos/aws-secrets.yaml`). */
  async list(): Promise<string[]> {
    try {
      const entries = await readdir(this.root, { recursive: true, withFileTypes: true });
      return entries.filter((e) => e.isFile()).map((e) => relative(this.root, join(e.parentPath, e.name))).sort();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  }

  private async ensureDir(dir: string): Promise<void> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await chmod(this.root, 0o700);
    const ignore = join(this.root, '.gitignore');
    try {
      await writeFile(ignore, '# hybridctl state: secrets; never commit\n*\n', { flag: 'wx', mode: 0o600 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}

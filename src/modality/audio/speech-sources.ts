/**
 * Where speech comes from, and its fixed train/test split.
 *
 * Sources: a folder of WAV and Ogg Vorbis files (searched recursively), or a set named after the
 * Debian package that installs it, whose files are found with `dpkg -L` (so they are found wherever
 * the package put them, and a missing package is named with the command that installs it):
 *
 *   festvox-ru  620 sentences read by one male Russian speaker (99.5 min, 16 kHz WAV, BSD-like);
 *               split by utterance
 *   fillets-cs  the voice-over of the game Fish Fillets NG in Czech (105.7 min, several actors, Ogg
 *               Vorbis at 22.05 kHz, GPL-2+); split by level (scene), so no scene is in both sets
 *   fillets-nl  the same in Dutch (95.8 min)
 *
 * A name is only a name when no file or directory of that name exists in the working directory.
 *
 * The split is fixed and needs no seed: the source's split units (utterances, or the fillets
 * levels) are sorted by name, and every `TEST_EVERY`-th of them (the 20th, 40th, …: 5 %) is the test
 * set; a source of fewer units than that holds out its last one. Folders split by file, each file an
 * utterance (speakers are not known there).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, relative } from 'node:path';
import { DataError } from '../../data/errors.js';
import { pathKind } from '../../data/read-file.js';

/** Every this-many-th split unit, in sorted order, is in the test set. */
const TEST_EVERY = 20;

/** File name endings read as audio (the format itself is taken from the file's first bytes). */
const AUDIO_EXTENSIONS: readonly string[] = ['.wav', '.ogg', '.oga'];

export interface NamedSpeechSet {
  /** One line for --help. */
  readonly description: string;
  /** The Debian package that installs it. */
  readonly debianPackage: string;
  /** Which of the package's audio files are speech of the set. */
  readonly keep: (path: string) => boolean;
  /** The split unit a file belongs to (test and train never share one). */
  readonly unit: (path: string) => string;
}

/** Fish Fillets NG keeps a level's lines in sound/<level>/<language>/. */
const filletsLevel = (path: string): string => basename(dirname(dirname(path)));

const NAMED_SPEECH_SETS: Readonly<Record<string, NamedSpeechSet>> = {
  'festvox-ru': {
    description: 'one Russian speaker, 620 sentences, 99.5 min, 16 kHz',
    debianPackage: 'festvox-ru',
    keep: (path) => basename(dirname(path)) === 'wav',
    unit: (path) => basename(path),
  },
  'fillets-cs': {
    description: 'Czech game dialogue, several actors, 105.7 min, 22.05 kHz, split by level',
    debianPackage: 'fillets-ng-data-cs',
    keep: (path) => basename(dirname(path)) === 'cs',
    unit: filletsLevel,
  },
  'fillets-nl': {
    description: 'Dutch game dialogue, several actors, 95.8 min, 22.05 kHz, split by level',
    debianPackage: 'fillets-ng-data-nl',
    keep: (path) => basename(dirname(path)) === 'nl',
    unit: filletsLevel,
  },
};

/** "festvox-ru (…); fillets-cs (…)" for help texts. */
export function describeSpeechSets(): string {
  return Object.entries(NAMED_SPEECH_SETS).map(([name, s]) => `${name} (${s.description})`).join('; ');
}

const isAudioFile = (path: string): boolean => AUDIO_EXTENSIONS.includes(extname(path).toLowerCase());

/** Whether `data` is a speech set's name (not shadowed by a local path) or a folder holding audio files. */
export function isSpeechSource(data: string): boolean {
  const kind = pathKind(data);
  if (kind === undefined) return NAMED_SPEECH_SETS[data] !== undefined;
  return kind === 'directory' && listAudioFiles(data, 1).length > 0;
}

/** The audio files under `dir`, recursively, sorted; stops after `max`. Hidden entries are skipped. */
function listAudioFiles(dir: string, max = Infinity): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (out.length >= max) return;
      if (entry.name.startsWith('.')) continue;
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else if ((entry.isFile() || (entry.isSymbolicLink() && statSync(path).isFile())) && isAudioFile(entry.name)) out.push(path);
    }
  };
  walk(dir);
  return out;
}

/** The installed files of a Debian package, or undefined when it is not installed (or dpkg is absent). */
function packageFiles(debianPackage: string): string[] | undefined {
  try {
    return execFileSync('dpkg', ['-L', debianPackage], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 * 2 ** 20 }).split('\n').filter((line) => line !== '');
  } catch {
    return undefined;
  }
}

/** One audio file of a source and the split unit it belongs to. */
export interface SpeechFile {
  readonly path: string;
  readonly unit: string;
}

export interface SpeechSource {
  /** The name given (a set's name, or the folder). */
  readonly name: string;
  /** Absolute folder the files are under (for a named set, the common folder of its files). */
  readonly root: string;
  readonly files: readonly SpeechFile[];
}

/** The files of `data`: a named speech set (installed) or a folder; a one-line error otherwise. */
export function speechSource(data: string, sets: Readonly<Record<string, NamedSpeechSet>> = NAMED_SPEECH_SETS): SpeechSource {
  const named = sets[data];
  if (named !== undefined && pathKind(data) === undefined) {
    const installed = packageFiles(named.debianPackage);
    const files = (installed ?? []).filter((path) => isAudioFile(path) && named.keep(path) && pathKind(path) === 'file').sort();
    if (files.length === 0) {
      throw new DataError(`speech set '${data}' is not installed (no audio files in Debian package ${named.debianPackage}); install it with: apt-get install -y ${named.debianPackage}`);
    }
    return { name: data, root: commonFolder(files), files: files.map((path) => ({ path, unit: named.unit(path) })) };
  }
  const kind = pathKind(data);
  if (kind === undefined) {
    throw new DataError(`speech data ${data} does not exist; give a folder of WAV/Ogg files or one of the sets ${Object.keys(sets).join(', ')}`);
  }
  if (kind !== 'directory') throw new DataError(`speech data ${data} is a file; give a folder of WAV/Ogg files (searched recursively) or one of the sets ${Object.keys(sets).join(', ')}`);
  const files = listAudioFiles(data);
  if (files.length < 2) {
    throw new DataError(`speech folder ${data} holds ${files.length} audio file${files.length === 1 ? '' : 's'} (${AUDIO_EXTENSIONS.join(', ')}, searched recursively); a run needs at least 2, one for the test set`);
  }
  return { name: data, root: data, files: files.map((path) => ({ path, unit: relative(data, path) })) };
}

function commonFolder(files: readonly string[]): string {
  let root = dirname(files[0]!);
  while (!files.every((f) => f.startsWith(`${root}/`)) && root !== dirname(root)) root = dirname(root);
  return root;
}

/**
 * The source's files of one split, in sorted order: the units sorted by name, every TEST_EVERY-th
 * (or, with fewer units, the last) in the test set, each unit's files with it.
 */
export function splitFiles(source: SpeechSource, split: 'train' | 'test'): string[] {
  const units = [...new Set(source.files.map((f) => f.unit))].sort();
  const test = new Set(units.length >= TEST_EVERY ? units.filter((_, i) => i % TEST_EVERY === TEST_EVERY - 1) : units.slice(-1));
  if (units.length < 2) throw new DataError(`speech data ${source.name} has ${units.length} split unit; a run needs at least 2, one for the test set`);
  return source.files.filter((f) => test.has(f.unit) === (split === 'test')).map((f) => f.path);
}

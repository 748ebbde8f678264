import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AudioError } from '../src/audio/audio-error.js';
import { decodeAudio, readAudioHeader } from '../src/audio/decode-audio.js';
import { decodeOggVorbis } from '../src/audio/ogg-vorbis-decode.js';
import { readAudioFile, readAudioFileHeader } from '../src/audio/read-audio-file.js';
import { decodeWav } from '../src/audio/wav-decode.js';
import { encodeWav16 } from '../src/audio/wav-encode.js';
import { readWavHeader } from '../src/audio/wav-header.js';
import { Rng } from '../src/init/rng.js';
import { DEFAULT_LIMITS, type InputLimits } from '../src/limits/input-limits.js';
import { tempDir } from './helpers/checkpoint-fixture.js';

// dist/test/… → the repository's test/fixtures/audio (see the README there for how they were made).
const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'fixtures', 'audio');

type SampleFormat = 'pcm8' | 'pcm16' | 'pcm24' | 'pcm32' | 'float32' | 'float64';
const BITS: Record<SampleFormat, number> = { pcm8: 8, pcm16: 16, pcm24: 24, pcm32: 32, float32: 32, float64: 64 };

/** The value a sample format stores for v in [−1, 1): integers on the 2^(bits − 1) grid, float32 rounded. */
function representable(format: SampleFormat, v: number): number {
  if (format === 'float64') return v;
  if (format === 'float32') return Math.fround(v);
  const scale = 2 ** (BITS[format] - 1);
  return Math.max(-scale, Math.min(scale - 1, Math.round(v * scale))) / scale;
}

/** The bytes of a WAV file, written here byte by byte from the specification (not by the code under test). */
function buildWav(format: SampleFormat, channels: number, sampleRate: number, data: readonly Float64Array[], o: { extensible?: boolean; beforeData?: Uint8Array } = {}): Uint8Array {
  const bits = BITS[format];
  const frames = data[0]!.length;
  const blockAlign = channels * (bits / 8);
  const samples = new Uint8Array(frames * blockAlign);
  const view = new DataView(samples.buffer);
  for (let f = 0; f < frames; f++) {
    for (let c = 0; c < channels; c++) {
      const at = f * blockAlign + c * (bits / 8);
      const v = data[c]![f]!;
      const int = Math.round(v * 2 ** (bits - 1));
      switch (format) {
        case 'pcm8': view.setUint8(at, int + 128); break;
        case 'pcm16': view.setInt16(at, int, true); break;
        case 'pcm24': view.setUint8(at, int & 0xff); view.setUint8(at + 1, (int >> 8) & 0xff); view.setInt8(at + 2, int >> 16); break;
        case 'pcm32': view.setInt32(at, int, true); break;
        case 'float32': view.setFloat32(at, v, true); break;
        case 'float64': view.setFloat64(at, v, true); break;
      }
    }
  }
  const tag = format.startsWith('pcm') ? 1 : 3;
  const fmt = new Uint8Array(o.extensible ? 40 : 16);
  const fv = new DataView(fmt.buffer);
  fv.setUint16(0, o.extensible ? 0xfffe : tag, true);
  fv.setUint16(2, channels, true);
  fv.setUint32(4, sampleRate, true);
  fv.setUint32(8, sampleRate * blockAlign, true);
  fv.setUint16(12, blockAlign, true);
  fv.setUint16(14, bits, true);
  if (o.extensible) {
    fv.setUint16(16, 22, true);
    fv.setUint16(18, bits, true);
    fv.setUint32(20, (1 << channels) - 1, true);
    fmt.set([tag, 0, 0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xaa, 0, 0x38, 0x9b, 0x71], 24);
  }
  return riff([chunk('fmt ', fmt), ...(o.beforeData ? [chunk('LIST', o.beforeData)] : []), chunk('data', samples)]);
}

function chunk(id: string, body: Uint8Array, declaredSize = body.length): Uint8Array {
  const out = new Uint8Array(8 + body.length + (body.length % 2));
  out.set([...id].map((c) => c.charCodeAt(0)));
  new DataView(out.buffer).setUint32(4, declaredSize, true);
  out.set(body, 8);
  return out;
}

function riff(chunks: readonly Uint8Array[], magic = 'RIFF'): Uint8Array {
  const size = chunks.reduce((n, c) => n + c.length, 4);
  const out = new Uint8Array(8 + size);
  out.set([...magic].map((c) => c.charCodeAt(0)));
  new DataView(out.buffer).setUint32(4, magic === 'RF64' ? 0xffffffff : size, true);
  out.set([...'WAVE'].map((c) => c.charCodeAt(0)), 8);
  let at = 12;
  for (const c of chunks) { out.set(c, at); at += c.length; }
  return out;
}

/** Deterministic test channels: channel c is a sine of 100·(c + 1) Hz plus noise, in [−0.9, 0.9]. */
function channelsOf(format: SampleFormat, channels: number, frames: number, sampleRate: number): Float64Array[] {
  const rng = new Rng(7 + channels);
  return Array.from({ length: channels }, (_, c) => Float64Array.from({ length: frames }, (_, i) =>
    representable(format, 0.6 * Math.sin((2 * Math.PI * 100 * (c + 1) * i) / sampleRate) + 0.3 * (2 * rng.uniform() - 1))));
}

/** `fn` throws an AudioError whose one-line message matches every pattern. */
async function refuses(fn: () => unknown, ...patterns: RegExp[]): Promise<void> {
  await assert.rejects(async () => fn(), (err: unknown) => {
    assert.ok(err instanceof AudioError, String(err));
    assert.ok(!err.message.includes('\n'), err.message);
    for (const p of patterns) assert.match(err.message, p);
    return true;
  });
}

test('WAV: every PCM and float sample format, 1 to 6 channels, decodes to the mean of its channels exactly', async () => {
  const formats: SampleFormat[] = ['pcm8', 'pcm16', 'pcm24', 'pcm32', 'float32', 'float64'];
  for (const format of formats) {
    for (const channels of [1, 2, 3, 6]) {
      // More than two channels are written as WAVE_FORMAT_EXTENSIBLE, as the format's specification asks.
      const extensible = channels > 2;
      const data = channelsOf(format, channels, 501, 22050);
      const bytes = buildWav(format, channels, 22050, data, { extensible });
      const header = readWavHeader(bytes, 'x.wav');
      assert.deepEqual({ ...header, dataOffset: 0 }, {
        format: 'wav', sampleFormat: format.startsWith('pcm') ? 'pcm' : 'float', bitsPerSample: BITS[format], channels, sampleRate: 22050,
        blockAlign: channels * BITS[format] / 8, dataOffset: 0, dataBytes: 501 * channels * BITS[format] / 8, frames: 501,
      });
      const clip = await decodeAudio(bytes, 'x.wav');
      assert.equal(clip.sampleRate, 22050);
      assert.equal(clip.channels, channels);
      assert.equal(clip.samples.length, 501);
      for (let i = 0; i < 501; i++) {
        let mean = 0;
        for (let c = 0; c < channels; c++) mean += data[c]![i]!;
        assert.equal(clip.samples[i], Math.fround(mean / channels), `${format}, ${channels} channels, frame ${i}`);
      }
    }
  }
  // A plain (not extensible) header with 3 channels and extensible mono and stereo read the same.
  const data = channelsOf('pcm24', 2, 50, 8000);
  assert.deepEqual(decodeWav(buildWav('pcm24', 2, 8000, data, { extensible: true }), 'e.wav').samples, decodeWav(buildWav('pcm24', 2, 8000, data), 'p.wav').samples);
});

test('WAV: full scale and silence map to −1, 0 and just under 1; channels in opposite phase cancel', () => {
  const ends = Float64Array.from([-1, 0, 1 - 2 ** -15]);
  assert.deepEqual([...decodeWav(buildWav('pcm16', 1, 8000, [ends]), 'a.wav').samples], [-1, 0, 1 - 2 ** -15]);
  assert.deepEqual([...decodeWav(buildWav('pcm8', 1, 8000, [Float64Array.from([-1, 0, 127 / 128])]), 'a.wav').samples], [-1, 0, 127 / 128]);
  const left = Float64Array.from({ length: 100 }, (_, i) => representable('pcm16', 0.5 * Math.sin(i / 3)));
  const right = left.map((v) => -v);
  assert.ok(decodeWav(buildWav('pcm16', 2, 8000, [left, right]), 's.wav').samples.every((v) => v === 0));
});

test('WAV: 16-bit encoding round-trips, clips, and writes what sox and every reader expect', () => {
  const rng = new Rng(3);
  const samples = Float32Array.from({ length: 1001 }, () => Math.round((2 * rng.uniform() - 1) * 30000) / 32768);
  const bytes = encodeWav16(samples, 16000);
  assert.equal(bytes.length, 44 + 2 * 1001);
  const clip = decodeWav(bytes, 'out.wav');
  assert.deepEqual(clip.samples, samples);
  assert.deepEqual(encodeWav16(clip.samples, 16000), bytes);
  assert.equal(readWavHeader(bytes, 'out.wav').sampleRate, 16000);
  // Out-of-range and non-finite samples clip to the 16-bit range, NaN to silence.
  const clipped = decodeWav(encodeWav16(Float32Array.from([2, -2, 1, Number.NaN, 0.5]), 8000), 'c.wav').samples;
  assert.deepEqual([...clipped], [32767 / 32768, -1, 32767 / 32768, 0, 0.5]);
  assert.throws(() => encodeWav16(samples, 0), /positive integer/);
});

test('WAV: chunks before the data are walked over, also when they push it past the first 64 KiB of the file', async () => {
  const dir = tempDir('audio-list');
  const data = channelsOf('pcm16', 1, 300, 16000);
  const bytes = buildWav('pcm16', 1, 16000, data, { beforeData: new Uint8Array(100_001) });
  writeFileSync(join(dir, 'meta.wav'), bytes);
  assert.equal(readAudioFileHeader(join(dir, 'meta.wav')).frames, 300);
  const clip = await readAudioFile(join(dir, 'meta.wav'));
  assert.deepEqual(clip.samples, Float32Array.from(data[0]!));
});

test('WAV: a streaming writer\'s unknown data size (0xFFFFFFFF) means the samples run to the end of the file', () => {
  const data = channelsOf('pcm16', 2, 64, 16000);
  const bytes = buildWav('pcm16', 2, 16000, data);
  new DataView(bytes.buffer).setUint32(40, 0xffffffff, true);
  assert.equal(readWavHeader(bytes, 's.wav').frames, 64);
  assert.equal(decodeWav(bytes, 's.wav').samples.length, 64);
});

/** An RF64 header (EBU Tech 3306) whose ds64 chunk declares `frames` frames of 16-bit stereo, with no samples after it. */
function rf64Header(frames: number): Uint8Array {
  const ds64 = new Uint8Array(28);
  const dv = new DataView(ds64.buffer);
  const dataBytes = frames * 4;
  dv.setUint32(8, dataBytes % 2 ** 32, true);
  dv.setUint32(12, Math.floor(dataBytes / 2 ** 32), true);
  const fmt = buildWav('pcm16', 2, 48000, [new Float64Array(0), new Float64Array(0)]).subarray(12, 12 + 24);
  return riff([chunk('ds64', ds64), fmt, chunk('data', new Uint8Array(0), 0xffffffff)], 'RF64');
}

test('caps: a WAV declaring 10^12 samples is refused from its header in one line, without allocating them', async () => {
  const dir = tempDir('audio-caps');
  const header = rf64Header(5e11);
  const file = join(dir, 'huge.wav');
  writeFileSync(file, header);
  const message = /^\S*huge\.wav declares 1,000,000,000,000 samples \(500,000,000,000 frames × 2 channels, 2,894 h at 48,000 Hz\), over the cap of 67,108,864; raise it with --max-audio-samples N if the file is genuine$/;
  const before = process.memoryUsage().arrayBuffers;
  await refuses(() => readAudioFile(file), message);
  await refuses(() => decodeAudio(header, file), message);
  const grown = process.memoryUsage().arrayBuffers - before;
  assert.ok(grown < 4 * 2 ** 20, `refusing took ${(grown / 2 ** 20).toFixed(1)} MB of array buffers`);
  // Within the cap, the same header is refused for holding none of the samples it declares.
  await refuses(() => decodeAudio(rf64Header(1000), 'short.wav'), /short\.wav declares 4,000 bytes of samples but holds 0 \(truncated\?\); re-export it/);
  // A plain RIFF data chunk can declare 4 GiB: refused by the cap too, and by a lower cap given as a limit.
  const riffHuge = buildWav('pcm8', 1, 8000, [new Float64Array(10)]);
  new DataView(riffHuge.buffer).setUint32(40, 0xfffffffe, true);
  await refuses(() => decodeAudio(riffHuge, 'r.wav'), /r\.wav declares 4,294,967,294 samples/, /--max-audio-samples N/);
  const small: InputLimits = { ...DEFAULT_LIMITS, maxAudioSamples: 9 };
  await refuses(() => decodeAudio(buildWav('pcm8', 1, 8000, [new Float64Array(10)]), 'ten.wav', small), /ten\.wav declares 10 samples \(10 frames × 1 channel, 0\.00125 s at 8,000 Hz\), over the cap of 9/);
});

test('truncated, garbage and unsupported WAV files are refused in one line that names the file and the fix', async () => {
  const bytes = buildWav('pcm16', 2, 16000, channelsOf('pcm16', 2, 40, 16000));
  // Every cut of the file: inside the header, before the data, inside the samples.
  for (let cut = 0; cut < bytes.length; cut++) {
    await refuses(() => decodeAudio(bytes.subarray(0, cut), 'cut.wav'), /cut\.wav/, /(re-export it|convert it)/);
  }
  const rng = new Rng(5);
  for (let trial = 0; trial < 50; trial++) {
    const garbage = Uint8Array.from({ length: 200 }, () => rng.int(256));
    await refuses(() => decodeAudio(garbage, 'noise.bin'), /^audio noise\.bin is neither WAV nor Ogg Vorbis \(unrecognised first bytes\); convert it/);
  }
  // A RIFF header followed by random chunk headers: refused (or decoded), never an unhelpful crash.
  for (let trial = 0; trial < 200; trial++) {
    const mangled = bytes.slice();
    for (let k = 0; k < 4; k++) mangled[12 + rng.int(32)] = rng.int(256);
    try {
      await decodeAudio(mangled, 'mangled.wav');
    } catch (err) {
      assert.ok(err instanceof AudioError && !err.message.includes('\n') && err.message.includes('mangled.wav'), String(err));
    }
  }
  const withTag = (tag: number, bits = 16): Uint8Array => {
    const b = buildWav('pcm16', 1, 8000, [new Float64Array(4)]);
    new DataView(b.buffer).setUint16(20, tag, true);
    new DataView(b.buffer).setUint16(34, bits, true);
    return b;
  };
  await refuses(() => decodeAudio(withTag(0x0055), 'mp3.wav'), /mp3\.wav cannot be decoded as WAV \(format tag 0x0055; PCM \(1\), IEEE float \(3\)/, /sox IN -b 16 OUT\.wav/);
  await refuses(() => decodeAudio(withTag(1, 12), 'odd.wav'), /12-bit PCM samples; 8, 16, 24, 32 bits are readable/);
  await refuses(() => decodeAudio(buildWav('float32', 1, 8000, [Float64Array.from([0.5, Number.NaN])]), 'nan.wav'), /nan\.wav holds a sample that is not a finite number \(frame 1\)/);
});

test('files on disk: a missing path or a directory is refused in one line', async () => {
  const dir = tempDir('audio-paths');
  mkdirSync(join(dir, 'folder.wav'));
  await refuses(() => readAudioFile(join(dir, 'missing.wav')), /missing\.wav does not exist; check the path/);
  await refuses(() => readAudioFile(join(dir, 'folder.wav')), /folder\.wav is a directory, expected a WAV or Ogg Vorbis file/);
});

test('Ogg Vorbis: a stereo tone decodes to the mean of its two sines; speech decodes to its full length', async () => {
  const tone = await readAudioFile(join(FIXTURES, 'tone.ogg'));
  assert.equal(tone.sampleRate, 16000);
  assert.equal(tone.channels, 2);
  assert.equal(tone.samples.length, 8000);
  let signal = 0, error = 0;
  for (let i = 0; i < tone.samples.length; i++) {
    const expected = 0.25 * Math.sin((2 * Math.PI * 440 * i) / 16000) + 0.25 * Math.sin((2 * Math.PI * 1000 * i) / 16000);
    signal += expected * expected;
    error += (tone.samples[i]! - expected) ** 2;
  }
  const snr = 10 * Math.log10(signal / error);
  assert.ok(snr > 18, `decoded tone is ${snr.toFixed(1)} dB from the sines`);
  const speech = await readAudioFile(join(FIXTURES, 'speech.ogg'));
  assert.deepEqual(readAudioFileHeader(join(FIXTURES, 'speech.ogg')), { format: 'ogg-vorbis', sampleRate: 16000, channels: 1, frames: speech.samples.length });
  assert.ok(Math.abs(speech.samples.length / 16000 - 3.98) < 0.02, `${speech.samples.length} samples`);
  const rms = Math.sqrt(speech.samples.reduce((s, v) => s + v * v, 0) / speech.samples.length);
  assert.ok(rms > 0.02 && rms < 0.5, `speech RMS ${rms}`);
  // The same bytes decode to the same samples each time (the decoder keeps no state between files).
  assert.deepEqual((await decodeAudio(readFileSync(join(FIXTURES, 'tone.ogg')), 'tone.ogg')).samples, tone.samples);
});

test('Ogg Vorbis: caps, truncation, corruption and other codecs are refused in one line', async () => {
  const bytes = new Uint8Array(readFileSync(join(FIXTURES, 'tone.ogg')));
  const small: InputLimits = { ...DEFAULT_LIMITS, maxAudioSamples: 15_999 };
  await refuses(() => decodeOggVorbis(bytes, 'tone.ogg', small), /^tone\.ogg declares 16,000 samples \(8,000 frames × 2 channels, 0\.5 s at 16,000 Hz\), over the cap of 15,999; raise it with --max-audio-samples N/);
  assert.deepEqual(readAudioHeader(bytes, bytes, 'tone.ogg'), { format: 'ogg-vorbis', sampleRate: 16000, channels: 2, frames: 8000 });
  for (const cut of [10, 40, 100, 1000, Math.floor(bytes.length / 2), bytes.length - 1]) {
    await refuses(() => decodeAudio(bytes.subarray(0, cut), 'cut.ogg'), /^audio cut\.ogg cannot be decoded as Ogg Vorbis \(.*\); re-encode it/);
  }
  // Bytes flipped inside the audio packets: the decoder reports it and the file is refused, or the damage is inaudible to it and the file decodes.
  const rng = new Rng(11);
  let refused = 0;
  for (let trial = 0; trial < 20; trial++) {
    const corrupt = bytes.slice();
    const at = 3500 + rng.int(bytes.length - 3600);
    for (let k = 0; k < 50; k++) corrupt[at + k] = corrupt[at + k]! ^ 0x55;
    try {
      const clip = await decodeAudio(corrupt, 'corrupt.ogg');
      assert.ok(clip.samples.length <= 8000);
    } catch (err) {
      assert.ok(err instanceof AudioError && !err.message.includes('\n') && err.message.startsWith('audio corrupt.ogg '), String(err));
      assert.match(err.message, /^audio corrupt\.ogg (cannot be decoded as Ogg Vorbis \(.+\)|decodes to more than .*); re-encode it/);
      // The decoder's own errors are shown as the packet, libvorbis's text and its error code.
      if (err.message.includes('(packet ')) assert.match(err.message, /\(packet \d+: [a-z][a-z ]+ \(OV_[A-Z]+\)\); re-encode it$/);
      refused++;
    }
  }
  assert.ok(refused > 0, 'no corruption was noticed');
  // A last page that declares fewer samples than the stream holds (its granule position set to 100):
  // the end of a Vorbis stream is where its last granule says (Vorbis I §A.2), so a stream that is
  // one page of audio is cut there, and one whose earlier pages already hold more is refused.
  const understate = (ogg: Uint8Array): Uint8Array => {
    const out = ogg.slice();
    let last = out.length - 27;
    while (!(out[last] === 0x4f && out[last + 1] === 0x67 && out[last + 2] === 0x67 && out[last + 3] === 0x53)) last--;
    out.fill(0, last + 6, last + 14);
    out[last + 6] = 100;
    return out;
  };
  const decodedTone = (await decodeAudio(bytes, 'tone.ogg')).samples;
  assert.deepEqual((await decodeAudio(understate(bytes), 'cut.ogg')).samples, decodedTone.subarray(0, 100));
  // One that declares far more than it holds (30 million frames, within the cap) takes memory for what it holds only.
  const overstated = bytes.slice();
  let lastPage = overstated.length - 27;
  while (!(overstated[lastPage] === 0x4f && overstated[lastPage + 1] === 0x67 && overstated[lastPage + 2] === 0x67 && overstated[lastPage + 3] === 0x53)) lastPage--;
  new DataView(overstated.buffer).setUint32(lastPage + 6, 30_000_000, true);
  const before = process.memoryUsage().arrayBuffers;
  const long = (await decodeAudio(overstated, 'long.ogg')).samples;
  // Without the true end to trim to, the decoder keeps the padding of the last block (8,192 samples in all).
  assert.equal(long.length, 8192);
  assert.deepEqual(long.subarray(0, 8000), decodedTone);
  assert.ok(process.memoryUsage().arrayBuffers - before < 16 * 2 ** 20, 'decoding allocated for the declared length');
  const speech = new Uint8Array(readFileSync(join(FIXTURES, 'speech.ogg')));
  await refuses(() => decodeAudio(understate(speech), 'liar.ogg'), /liar\.ogg decodes to more than the 100 samples per channel its last page declares; re-encode it/);
  // An Ogg stream of another codec: the first packet is an OpusHead.
  const opus = bytes.slice();
  const body = 27 + opus[26]!;
  opus.set([...'OpusHead'].map((c) => c.charCodeAt(0)), body);
  await refuses(() => decodeAudio(opus, 'voice.opus'), /voice\.opus cannot be decoded as Ogg Vorbis \(its first packet is not a Vorbis identification header; Opus, FLAC and Speex in Ogg are not readable\); re-encode it/);
});

test('Ogg Vorbis: a malformed identification header is refused in one line, on the first page or a later one', async () => {
  const bytes = new Uint8Array(readFileSync(join(FIXTURES, 'tone.ogg')));
  const id = 27 + bytes[26]!;
  const withIdByte = (offset: number, value: number): Uint8Array => {
    const out = bytes.slice();
    out[id + offset] = value;
    return out;
  };
  // Found by the fuzz harness: the decoder library's Ogg parser threw a ReferenceError on these.
  await refuses(() => decodeAudio(withIdByte(29, 0), 'frame.ogg'), /^audio frame\.ogg cannot be decoded as Ogg Vorbis \(its identification header lacks the framing bit\); re-encode it/);
  await refuses(() => decodeAudio(withIdByte(28, 0x9a), 'blocks.ogg'), /^audio blocks\.ogg cannot be decoded as Ogg Vorbis \(block sizes 2\^10 and 2\^9; 2\^6 ≤ short ≤ long ≤ 2\^13 are readable\); re-encode it/);
  await refuses(() => decodeAudio(withIdByte(28, 0xe6), 'huge-block.ogg'), /block sizes 2\^6 and 2\^14/);
  // The same broken header on a later page, past what the header reader checks: the library's throw is refused too.
  const pages: Uint8Array[] = [];
  for (let at = 0; at < bytes.length;) {
    let end = at + 27 + bytes[at + 26]!;
    for (let s = 0; s < bytes[at + 26]!; s++) end += bytes[at + 27 + s]!;
    pages.push(bytes.subarray(at, end));
    at = end;
  }
  const badHeaderPage = withIdByte(29, 0).subarray(0, pages[0]!.length);
  const restarted = Buffer.concat([pages[0]!, pages[1]!, badHeaderPage, pages[1]!, ...pages.slice(2)]);
  await refuses(() => decodeAudio(restarted, 'restart.ogg'), /^audio restart\.ogg cannot be decoded as Ogg Vorbis \(the decoder library stopped on a malformed page with a ReferenceError\); re-encode it$/);
});

using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace MlNetMlp.Training
{
    /// <summary>The checkpoint file's envelope and shared pieces: a magic and version, the run's fingerprint, the
    /// payload the loop writes, and a SHA-256 of everything before it, so a truncated or damaged file is refused with
    /// a clear message instead of resuming from garbage. Written to a temporary file renamed over the old one, so a
    /// crash while writing leaves the previous checkpoint intact.</summary>
    internal static class TrainingCheckpoint
    {
        private static readonly byte[] Magic = "MLPCKPT\0"u8.ToArray();
        private const int Version = 1;
        private const int HashBytes = 32;

        /// <summary>What a checkpoint must agree with to be resumed: the settings that shape the weights, the
        /// minibatch order or the schedule.</summary>
        internal static string Fingerprint(IEnumerable<(string Key, object Value)> settings) =>
            string.Join(";", settings.Select(s => $"{s.Key}={s.Value}"));

        /// <summary>Writes <paramref name="payload"/>'s bytes under the envelope to <paramref name="path"/> atomically.</summary>
        internal static void Write(string path, string fingerprint, Action<BinaryWriter> payload)
        {
            using var buffer = new MemoryStream();
            using (var w = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true))
            {
                w.Write(Magic);
                w.Write(Version);
                w.Write(fingerprint);
                payload(w);
            }
            var body = buffer.GetBuffer().AsSpan(0, (int)buffer.Length);
            buffer.Write(SHA256.HashData(body));
            var full = Path.GetFullPath(path);
            Directory.CreateDirectory(Path.GetDirectoryName(full));
            var temporary = full + ".tmp";
            File.WriteAllBytes(temporary, buffer.ToArray());
            File.Move(temporary, full, overwrite: true);
        }

        /// <summary>Checks <paramref name="bytes"/> (read from <paramref name="path"/>) and returns a reader positioned at
        /// the payload. Throws <see cref="InvalidDataException"/> for a damaged file or one of another run.</summary>
        internal static BinaryReader Open(byte[] bytes, string path, string fingerprint)
        {
            if (bytes.Length < Magic.Length + 4 + HashBytes || !bytes.AsSpan(0, Magic.Length).SequenceEqual(Magic))
                throw new InvalidDataException($"'{path}' is not an MlNetMlp training checkpoint.");
            var body = bytes.AsSpan(0, bytes.Length - HashBytes);
            if (!SHA256.HashData(body).AsSpan().SequenceEqual(bytes.AsSpan(bytes.Length - HashBytes)))
                throw new InvalidDataException($"The checkpoint '{path}' is damaged (its checksum does not match): delete it to start anew.");
            var r = new BinaryReader(new MemoryStream(bytes, 0, body.Length, writable: false));
            r.ReadBytes(Magic.Length);
            int version = r.ReadInt32();
            if (version != Version)
                throw new InvalidDataException($"The checkpoint '{path}' has format version {version}; this release reads version {Version}.");
            string theirs = r.ReadString();
            if (theirs != fingerprint)
                throw new InvalidDataException($"The checkpoint '{path}' was written by a different training run ({Difference(theirs, fingerprint)}): " +
                    "resume with the same data and options, or delete the file (or set ResumeFromCheckpoint = false) to start anew.");
            return r;
        }

        /// <summary>The first setting in which two fingerprints differ, as "its X was a, this run's is b".</summary>
        private static string Difference(string theirs, string ours)
        {
            var a = Parse(theirs);
            var b = Parse(ours);
            foreach (var (key, value) in b)
                if (!a.TryGetValue(key, out var other) || other != value)
                    return $"its {key} is {other ?? "missing"}, this run's is {value}";
            return "its settings differ";
        }

        private static Dictionary<string, string> Parse(string fingerprint) =>
            fingerprint.Split(';').Select(p => p.Split('=', 2)).Where(p => p.Length == 2)
                .GroupBy(p => p[0]).ToDictionary(g => g.Key, g => g.First()[1]);

        /// <summary>A network's layers: count, then per layer its weights and biases (length-prefixed).</summary>
        internal static void WriteLayers(BinaryWriter w, (float[] W, float[] B)[] layers)
        {
            w.Write(layers.Length);
            foreach (var (weights, biases) in layers)
            {
                WriteFloats(w, weights);
                WriteFloats(w, biases);
            }
        }

        /// <summary>Reads what <see cref="WriteLayers"/> wrote, checking it fits <paramref name="network"/>.</summary>
        internal static (float[] W, float[] B)[] ReadLayers(BinaryReader r, MlpNetwork network)
        {
            int count = r.ReadInt32();
            if (count != network.LayerCount)
                throw new InvalidDataException($"it holds {count} layers; the network has {network.LayerCount}");
            var layers = new (float[] W, float[] B)[count];
            for (int l = 0; l < count; l++)
            {
                layers[l] = (ReadFloats(r), ReadFloats(r));
                if (layers[l].W.Length != network.WeightCount(l) || layers[l].B.Length != network.Sizes[l + 1])
                    throw new InvalidDataException($"its layer {l} does not fit the network");
            }
            return layers;
        }

        /// <summary>The layers of <paramref name="network"/> as it is now.</summary>
        internal static (float[] W, float[] B)[] LayersOf(MlpNetwork network)
        {
            var layers = new (float[] W, float[] B)[network.LayerCount];
            for (int l = 0; l < layers.Length; l++)
            {
                layers[l] = (new float[network.WeightCount(l)], new float[network.Sizes[l + 1]]);
                network.GetLayer(l, layers[l].W, layers[l].B);
            }
            return layers;
        }

        internal static void WriteFloats(BinaryWriter w, float[] values)
        {
            w.Write(values.Length);
            w.Write(MemoryMarshal.AsBytes(values.AsSpan()));
        }

        internal static float[] ReadFloats(BinaryReader r)
        {
            int n = r.ReadInt32();
            if (n < 0 || (long)n * sizeof(float) > r.BaseStream.Length - r.BaseStream.Position)
                throw new InvalidDataException("it is truncated");
            var values = new float[n];
            r.BaseStream.ReadExactly(MemoryMarshal.AsBytes(values.AsSpan()));
            return values;
        }

        internal static void WriteBytes(BinaryWriter w, byte[] values)
        {
            w.Write(values.Length);
            w.Write(values);
        }

        internal static byte[] ReadBytes(BinaryReader r)
        {
            int n = r.ReadInt32();
            if (n < 0 || n > r.BaseStream.Length - r.BaseStream.Position)
                throw new InvalidDataException("it is truncated");
            return r.ReadBytes(n);
        }
    }
}

using System;
using System.Buffers.Binary;
using System.IO;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using MlNetMlp.Interop;

namespace MlNetMlp
{
    /// <summary>A native network plus the facts needed to rebuild it: layer sizes, activation, loss. Owns the
    /// serialized form used inside model.zip.</summary>
    internal sealed unsafe class MlpNetwork
    {
        internal const int MaxLayers = 64;
        internal const int MaxWidth = 1 << 24;

        private readonly int[] _sizes;

        internal MlpNetwork(int[] layerSizes, MlpActivation activation, int loss)
        {
            Native.EnsureLoaded();
            _sizes = (int[])layerSizes.Clone();
            Activation = activation;
            Loss = loss;
            int status;
            NetworkHandle handle;
            fixed (int* sizes = _sizes)
                status = NativeMethods.mlp_network_create(_sizes.Length - 1, sizes, (int)activation, loss, out handle);
            if (status != NativeMethods.StatusOk)
            {
                handle.Dispose();
                Native.Check(status);
            }
            Handle = handle;
        }

        internal NetworkHandle Handle { get; }
        internal MlpActivation Activation { get; }
        internal int Loss { get; }
        internal int LayerCount => _sizes.Length - 1;
        internal int InputCount => _sizes[0];
        internal int OutputCount => _sizes[^1];
        internal ReadOnlySpan<int> Sizes => _sizes;
        internal int[] LayerSizes => (int[])_sizes.Clone();

        internal long WeightCount(int layer) => (long)_sizes[layer] * _sizes[layer + 1];

        internal long ParameterCount
        {
            get
            {
                long total = 0;
                for (int l = 0; l < LayerCount; l++)
                    total += WeightCount(l) + _sizes[l + 1];
                return total;
            }
        }

        internal void Initialize(ulong seed) => Native.Check(NativeMethods.mlp_network_init(Handle, seed));

        internal void GetLayer(int layer, float[] weights, float[] biases)
        {
            fixed (float* w = weights)
            fixed (float* b = biases)
                Native.Check(NativeMethods.mlp_network_get_layer(Handle, layer, w, weights.Length, b, biases.Length));
        }

        internal void SetLayer(int layer, float[] weights, float[] biases)
        {
            fixed (float* w = weights)
            fixed (float* b = biases)
                Native.Check(NativeMethods.mlp_network_set_layer(Handle, layer, w, weights.Length, b, biases.Length));
        }

        internal float[] GetWeights(int layer)
        {
            var w = new float[WeightCount(layer)];
            GetLayer(layer, w, new float[_sizes[layer + 1]]);
            return w;
        }

        internal float[] GetBiases(int layer)
        {
            var b = new float[_sizes[layer + 1]];
            GetLayer(layer, new float[WeightCount(layer)], b);
            return b;
        }

        /// <summary>The scoring precision (see <see cref="MlpModelParametersBase{TOutput}.ScoringPrecision"/>); a clone
        /// scores in float32.</summary>
        internal MlpPrecision ScoringPrecision
        {
            get
            {
                Native.Check(NativeMethods.mlp_network_get_scoring_precision(Handle, out int precision));
                return (MlpPrecision)precision;
            }
            set => Native.Check(NativeMethods.mlp_network_set_scoring_precision(Handle, (int)value));
        }

        /// <summary>Floats of scratch space <see cref="Predict"/> needs for <paramref name="rows"/> rows.</summary>
        internal long WorkspaceSize(long rows)
        {
            Native.Check(NativeMethods.mlp_network_workspace_size(Handle, rows, out long count));
            return count;
        }

        /// <summary>Scores <paramref name="rows"/> dense rows. Reentrant: each caller brings its own workspace.
        /// <paramref name="threads"/>: 0 = the library setting (at most 2 are used), 1 = the calling thread only.</summary>
        internal void Predict(ReadOnlySpan<float> x, long rows, int outputKind, Span<float> output, Span<float> workspace, int threads = 0)
        {
            if (x.Length < rows * InputCount || output.Length < rows * OutputCount)
                throw new ArgumentException("Input or output buffer is too small for the number of rows.");
            fixed (float* px = x)
            fixed (float* po = output)
            fixed (float* pw = workspace)
                Native.Check(NativeMethods.mlp_network_predict(Handle, px, InputCount, rows, outputKind, po, OutputCount, pw, workspace.Length, threads));
        }

        /// <summary>An independent copy (same architecture and parameters).</summary>
        internal MlpNetwork Clone()
        {
            var copy = new MlpNetwork(_sizes, Activation, Loss);
            for (int l = 0; l < LayerCount; l++)
            {
                var w = new float[WeightCount(l)];
                var b = new float[_sizes[l + 1]];
                GetLayer(l, w, b);
                copy.SetLayer(l, w, b);
            }
            return copy;
        }

        // ---- serialization --------------------------------------------------------------------------------

        /// <summary>Writes: int loss, int activation, int layerCount, int[layerCount + 1] sizes, then per layer
        /// float[in * out] weights and float[out] biases (little-endian), then the CRC-32 of all those bytes.</summary>
        internal void Save(BinaryWriter writer)
        {
            var crc = new Crc32();
            void Put(ReadOnlySpan<byte> bytes)
            {
                crc.Append(bytes);
                writer.Write(bytes);
            }
            var int32 = new byte[4];
            void PutInt(int value)
            {
                BinaryPrimitives.WriteInt32LittleEndian(int32, value);
                Put(int32);
            }
            PutInt(Loss);
            PutInt((int)Activation);
            PutInt(LayerCount);
            foreach (var size in _sizes)
                PutInt(size);
            for (int l = 0; l < LayerCount; l++)
            {
                var w = new float[WeightCount(l)];
                var b = new float[_sizes[l + 1]];
                GetLayer(l, w, b);
                PutFloats(Put, w);
                PutFloats(Put, b);
            }
            writer.Write(crc.GetCurrentHashAsUInt32());
        }

        private delegate void ByteSink(ReadOnlySpan<byte> bytes);

        private static void PutFloats(ByteSink put, float[] values)
        {
            if (!BitConverter.IsLittleEndian)
                throw new PlatformNotSupportedException("MlNetMlp model files are little-endian.");
            put(MemoryMarshal.AsBytes(values.AsSpan()));
        }

        /// <summary>Reads what <see cref="Save"/> wrote, validating every size before allocating and the checksum
        /// before building the network. Throws <see cref="FormatException"/> on any inconsistency.</summary>
        internal static MlpNetwork Load(BinaryReader reader)
        {
            if (!BitConverter.IsLittleEndian)
                throw new PlatformNotSupportedException("MlNetMlp model files are little-endian.");
            var crc = new Crc32();
            int GetInt()
            {
                Span<byte> bytes = stackalloc byte[4];
                ReadExactly(reader, bytes);
                crc.Append(bytes);
                return BinaryPrimitives.ReadInt32LittleEndian(bytes);
            }
            int loss = GetInt();
            if (loss < NativeMethods.LossSoftmaxCrossEntropy || loss > NativeMethods.LossHuber)
                throw Corrupt($"unknown loss {loss}");
            int activation = GetInt();
            if (!Enum.IsDefined(typeof(MlpActivation), activation))
                throw Corrupt($"unknown activation {activation}");
            int layers = GetInt();
            if (layers < 1 || layers > MaxLayers)
                throw Corrupt($"layer count {layers} is outside [1, {MaxLayers}]");
            var sizes = new int[layers + 1];
            long parameters = 0;
            for (int i = 0; i <= layers; i++)
            {
                sizes[i] = GetInt();
                if (sizes[i] < 1 || sizes[i] > MaxWidth)
                    throw Corrupt($"layer width {sizes[i]} is outside [1, {MaxWidth}]");
                if (i > 0)
                    parameters += (long)sizes[i - 1] * sizes[i] + sizes[i];
            }
            if (parameters > int.MaxValue)
                throw Corrupt($"{parameters} parameters is more than a network can hold");
            var stream = reader.BaseStream;
            if (stream.CanSeek && stream.Length - stream.Position < parameters * sizeof(float) + sizeof(uint))
                throw Corrupt($"the file is truncated: {parameters} parameters announced, {stream.Length - stream.Position} bytes left");

            var weights = new float[layers][];
            var biases = new float[layers][];
            for (int l = 0; l < layers; l++)
            {
                weights[l] = ReadFloats(reader, crc, (long)sizes[l] * sizes[l + 1]);
                biases[l] = ReadFloats(reader, crc, sizes[l + 1]);
            }
            uint stored = reader.ReadUInt32();
            uint actual = crc.GetCurrentHashAsUInt32();
            if (stored != actual)
                throw Corrupt($"checksum mismatch (stored {stored:X8}, computed {actual:X8})");
            foreach (var layer in weights)
                foreach (var v in layer)
                    if (!float.IsFinite(v))
                        throw Corrupt("a weight is not finite");

            var net = new MlpNetwork(sizes, (MlpActivation)activation, loss);
            for (int l = 0; l < layers; l++)
                net.SetLayer(l, weights[l], biases[l]);
            return net;
        }

        private static float[] ReadFloats(BinaryReader reader, Crc32 crc, long count)
        {
            var values = new float[count];
            var bytes = MemoryMarshal.AsBytes(values.AsSpan());
            ReadExactly(reader, bytes);
            crc.Append(bytes);
            return values;
        }

        private static void ReadExactly(BinaryReader reader, Span<byte> buffer)
        {
            try
            {
                reader.BaseStream.ReadExactly(buffer);
            }
            catch (EndOfStreamException)
            {
                throw Corrupt("the file is truncated");
            }
        }

        /// <summary>A FormatException marked the ML.NET way, so that <c>Model.Load</c> reports it as an
        /// <see cref="InvalidOperationException"/> ("Error during class instantiation") with this one inside.</summary>
        internal static Exception Corrupt(string what) =>
            Microsoft.ML.Runtime.Contracts.ExceptDecode($"The MlNetMlp network in this model file is corrupted or not an MlNetMlp model: {what}.");
    }
}
